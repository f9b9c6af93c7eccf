"""Progress messages as codes with parameters: the one list of what a long job may say.

A progress callback's ``message`` is either plain English for a terminal (the CLI prints it) or a
``Msg`` made by ``msg(code, **params)``: still a ``str`` (its English text, so every renderer
keeps working) that also carries a stable ``code`` and ``params``. The worker forwards the code
and params to the page (``message_code``, ``message_params``), which renders them from its
catalogue (``web/src/lib/messages.js``, key ``progress.<code>``); a message without a code never
reaches the page. Every code is listed here once, with its English text, written for a person:
no internal file names ("0_0", "02.wav"), model ids or step counters of the machinery.
``tests/test_messages.py`` fails when a code here, or a PersonaError code raised anywhere in
``src``, has no Korean text in the catalogue.
"""

from __future__ import annotations

from typing import Any

PROGRESS: dict[str, str] = {
    # the job system
    "queued": "waiting in the queue",
    "waiting_device": "waiting for the {device} to be free",
    "starting": "starting",
    "stopping": "stopping…",
    # training
    "consent_check": "checking that the consent is in the trained voice",
    "preprocess_recording": "preparing recording {n} of {total}",
    "features_part": "analysing your voice: part {n} of {total}",
    "train_epoch": "training round {epoch} of {epochs}",
    "train_epoch_done": "training round {epoch} of {epochs} finished",
    "train_saved": "round {epoch} saved: its preview is ready",
    "train_from_scratch": "no pretrained base: training from scratch (sounds far worse)",
    "index_build": "building the voice search index",
    "export_model": "saving the model",
    "export_scoring": "scoring the voice",
    "export_library": "adding the model to the library",
    # conversion and covers
    "convert_loading": "loading the voice model",
    "convert_pitch": "reading the melody",
    "convert_pitch_done": "melody read",
    "convert_part": "converting the voice: part {n} of {total}",
    "convert_lead": "converting the lead vocal",
    "convert_backing": "converting the backing vocals",
    "decode_song": "reading the song ({seconds} s)",
    "separate_vocals": "separating the vocals from the music",
    "separate_cached": "vocals already separated earlier: reused",
    "mix_stems": "mixing the voice and the music",
    "mix_loudness": "evening out the loudness",
    "encode_cover": "saving the cover",
    # pretrained weights
    "download_asset": "downloading {name} ({n} of {total})",
    "verify_asset": "checking {name}",
    "download_done": "all weights are in place",
}


class Msg(str):
    """An English progress text that also carries its ``code`` and ``params``."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, params: dict[str, Any]) -> Msg:
        text = PROGRESS[code].format(**params)
        self = super().__new__(cls, text)
        self.code, self.params = code, dict(params)
        return self


def msg(code: str, **params: Any) -> Msg:
    """The progress message ``code`` with ``params``; KeyError for a code not listed above."""
    if code not in PROGRESS:
        raise KeyError(f"progress message code {code!r} is not in persona.messages.PROGRESS")
    return Msg(code, params)


def code_of(message: Any) -> tuple[str, dict[str, Any]]:
    """(code, params) of a message; ("", {}) for plain text (which the page does not show)."""
    if isinstance(message, Msg):
        return message.code, message.params
    return "", {}
