"""Password hashing (argon2id, argon2-cffi) and the rules for names and passwords.

``hash_password`` / ``verify_password`` wrap argon2-cffi's ``PasswordHasher`` (argon2id, its
RFC 9106 low-memory profile). ``verify_password`` with ``stored=None`` checks against a dummy hash
of the same cost, so an unknown name takes as long as a wrong password. The strength check is
zxcvbn's estimate plus a length floor; every refusal is a ``PersonaError`` whose code the page
renders in Korean.
"""

from __future__ import annotations

import secrets
import threading
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from persona.errors import PersonaError

NAME_MAX = 32
PASSWORD_MIN = 10
PASSWORD_MAX = 256  # argon2 takes any length; a bound keeps a request from buying CPU time
MIN_SCORE = 3  # zxcvbn's 0..4 ("safely unguessable" from 3)

_hasher = PasswordHasher()
_dummy: list[str] = []
_dummy_lock = threading.Lock()


def use_hasher(hasher: PasswordHasher) -> None:
    """Replace the hasher (tests use a cheap one; parameters are stored in each hash)."""
    global _hasher
    _hasher = hasher
    with _dummy_lock:
        _dummy.clear()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _dummy_hash() -> str:
    with _dummy_lock:
        if not _dummy:
            _dummy.append(_hasher.hash(secrets.token_urlsafe(24)))
        return _dummy[0]


def verify_password(stored: str | None, password: str) -> bool:
    """True when ``password`` matches ``stored``; with no stored hash, spend the same time and fail."""
    try:
        ok = _hasher.verify(stored or _dummy_hash(), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
    return bool(ok) and stored is not None


def needs_rehash(stored: str) -> bool:
    try:
        return _hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _printable(text: str) -> bool:
    return all(unicodedata.category(ch)[0] not in "CZ" or ch == " " for ch in text)


def clean_name(name: object) -> str:
    """A person's name as given (trimmed, NFC), or 400 ``name_invalid`` with a reason."""
    if not isinstance(name, str) or not name.strip():
        raise PersonaError("name_invalid", "the name is empty", params={"reason": "empty"})
    name = unicodedata.normalize("NFC", name.strip())
    if len(name) > NAME_MAX:
        raise PersonaError(
            "name_invalid",
            f"the name is longer than {NAME_MAX} characters",
            params={"reason": "too_long", "max": NAME_MAX},
        )
    if not _printable(name) or any(ch in name for ch in "/\\:@"):
        raise PersonaError(
            "name_invalid", "the name holds characters that cannot be shown", params={"reason": "unprintable"}
        )
    return name


def name_key(name: str) -> str:
    """The form two names are compared in: "Mina" and "ｍｉｎａ" are the same person."""
    return unicodedata.normalize("NFKC", name).casefold()


def check_password_shape(password: object) -> str:
    """Empty, too long or unprintable: 400 ``password_invalid`` (no strength judgement here)."""
    if not isinstance(password, str) or password == "":
        raise PersonaError("password_invalid", "the password is empty", params={"reason": "empty"})
    if len(password) > PASSWORD_MAX:
        raise PersonaError(
            "password_invalid",
            f"the password is longer than {PASSWORD_MAX} characters",
            params={"reason": "too_long", "max": PASSWORD_MAX},
        )
    if not all(unicodedata.category(ch)[0] != "C" for ch in password):
        raise PersonaError(
            "password_invalid",
            "the password holds control characters",
            params={"reason": "unprintable"},
        )
    return password


def check_password_strength(password: str, name: str = "") -> None:
    """Refuse a weak new password with the reason: 400 ``password_weak`` ``{reason, ...}``."""
    check_password_shape(password)
    if len(password) < PASSWORD_MIN:
        raise PersonaError(
            "password_weak",
            f"the password must be at least {PASSWORD_MIN} characters",
            params={"reason": "too_short", "min": PASSWORD_MIN},
        )
    if name and name_key(name) in name_key(password):
        raise PersonaError(
            "password_weak", "the password must not contain the name", params={"reason": "contains_name"}
        )
    from zxcvbn import zxcvbn

    result = zxcvbn(password[:100], user_inputs=[name] if name else [])
    if result["score"] < MIN_SCORE:
        raise PersonaError(
            "password_weak",
            "the password is too easy to guess (a common word, name, date or pattern)",
            params={"reason": "guessable", "score": int(result["score"])},
        )
