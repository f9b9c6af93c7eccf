"""Consent sentences: one per training request, kept until it is used once or expires.

A sentence names the model and today's date and ends with three words drawn at random, so a
recording made for one request does not fit another. Challenges live as small JSON files under
``<home>/consent/challenges`` (shared by every web process of an instance, like the rest of the
home). ``take`` checks its owner, model name and age, then consumes it atomically (a rename: of two
requests racing with the same challenge exactly one wins); an unknown, used, expired or someone
else's challenge gets the same answer, ``consent_challenge_invalid``, and is left as it was.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import secrets
import time
from pathlib import Path

from persona.errors import PersonaError
from persona.fsutil import atomic_write_text
from persona.settings import Settings

TTL_S = 30 * 60  # long enough to read and retry a few times, short enough to be of this visit
# Short, concrete, easy to read aloud; no two alike. Three of them make 50*49*48 sentences a day.
WORDS = (
    "사과", "바다", "구름", "연필", "기차", "우산", "바람", "나무", "호수", "달빛",
    "시계", "편지", "의자", "거울", "노을", "새벽", "소금", "열쇠", "종이", "모래",
    "하늘", "별빛", "강물", "숲길", "눈꽃", "등대", "단풍", "물결", "바위", "꽃잎",
    "고래", "나비", "토끼", "여우", "참새", "다리", "창문", "촛불", "풍선", "그림",
    "노래", "피아노", "기타", "북소리", "초록", "보라", "주황", "하양", "검정", "노랑",
)  # fmt: skip


@dataclasses.dataclass(frozen=True)
class Challenge:
    id: str
    sentence: str
    model_name: str
    owner: str  # "" in single-person mode
    created_at: float
    expires_at: float

    def public(self) -> dict:
        return {"id": self.id, "sentence": self.sentence, "expires_at": self.expires_at}


def _folder(settings: Settings) -> Path:
    return settings.home / "consent" / "challenges"


def sentence_for(model_name: str, day: dt.date, words: list[str]) -> str:
    return (
        f"저는 {day.year}년 {day.month}월 {day.day}일, '{model_name}' 목소리 모델을 만드는 데 "
        f"제 목소리를 쓰는 것에 동의합니다. {' '.join(words)}."
    )


def issue(settings: Settings, model_name: str, owner: str | None) -> Challenge:
    """A new sentence for this person and model name."""
    rng = secrets.SystemRandom()
    now = time.time()
    c = Challenge(
        id=secrets.token_hex(16),
        sentence=sentence_for(model_name, dt.date.today(), rng.sample(WORDS, 3)),
        model_name=model_name,
        owner=owner or "",
        created_at=now,
        expires_at=now + TTL_S,
    )
    atomic_write_text(
        _folder(settings) / f"{c.id}.json", json.dumps(dataclasses.asdict(c), ensure_ascii=False)
    )
    _sweep(settings, now)
    return c


def _invalid() -> PersonaError:
    return PersonaError(
        "consent_challenge_invalid",
        "this consent sentence is unknown, used or expired; ask for a new one and read it again",
    )


def take(settings: Settings, challenge_id: str, *, model_name: str, owner: str | None) -> Challenge:
    """Consume the challenge: it is valid once, for its owner and model name, before it expires."""
    if not (isinstance(challenge_id, str) and len(challenge_id) == 32 and challenge_id.isalnum()):
        raise _invalid()
    src = _folder(settings) / f"{challenge_id}.json"
    try:
        c = Challenge(**json.loads(src.read_text()))
    except (OSError, ValueError, TypeError):
        raise _invalid() from None
    if c.owner != (owner or "") or c.model_name != model_name or c.expires_at < time.time():
        raise _invalid()  # someone else's is left alone: only its owner can use it up
    taken = src.with_suffix(f".taken-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        os.rename(src, taken)  # atomic: of two racing requests one wins
    except FileNotFoundError:
        raise _invalid() from None
    taken.unlink(missing_ok=True)
    return c


def _sweep(settings: Settings, now: float) -> None:
    """Drop expired challenges (cheap: a folder of small files, swept when a new one is made)."""
    for p in _folder(settings).glob("*.json"):
        try:
            if json.loads(p.read_text())["expires_at"] < now:
                p.unlink(missing_ok=True)
        except (OSError, ValueError, KeyError):
            p.unlink(missing_ok=True)
