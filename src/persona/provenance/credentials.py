"""Content credentials on a written audio file: player-visible tags, then a signed C2PA manifest.

``credential_file(path, facts, settings)`` rewrites ``path`` in place (atomically):

1. Plain tags a player shows, through mutagen: ID3 in mp3 and in wav (an ``id3`` chunk, which
   players read as they read RIFF INFO), Vorbis comments in flac/ogg/opus, iTunes atoms in m4a:
   comment "AI cover made with Persona", encoder "Persona", and the facts as text.
2. A C2PA manifest signed with the instance's key (``identity.py``) through c2pa-python's
   ``Builder``: claim generator Persona, a ``c2pa.created`` action whose digital source type is
   IPTC "trainedAlgorithmicMedia", and a ``persona.cover`` assertion (kind, model hash, consent
   record, whether the audio carries the watermark, time). (C2PA's ``c2pa.watermarked`` action
   would need a soft-binding assertion with a registered algorithm name, which this mark has not.) Tags go first
   because the manifest's hash binds every byte outside itself.

Formats C2PA cannot carry (ogg, opus) get the tags only, and the returned ``Credentials`` says
``signed=False``: callers show that, nothing is dropped silently. A signing failure raises.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.settings import Settings

DISCLOSURE = "AI cover made with Persona"
TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
ASSERTION = "persona.cover"
SIGNED_MIME = {".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".m4a": "audio/mp4"}
KINDS = ("cover", "converted_vocal", "preview")


@dataclasses.dataclass(frozen=True)
class CoverFacts:
    """What the credentials say about one output."""

    kind: str = "cover"  # one of KINDS
    model_sha256: str | None = None  # the voice model's .pth
    consent_record: bool = False  # whether the voice model carries a live-read consent record
    consent: str = "none"  # recorded | imported (the importer confirmed their right) | none
    marked: bool = True  # whether the audio carries Persona's watermark
    created_at: str = dataclasses.field(
        default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    )
    title: str | None = None

    def as_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d.pop("title")
        return d


@dataclasses.dataclass(frozen=True)
class Credentials:
    path: Path
    signed: bool  # a C2PA manifest is embedded
    tagged: bool


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("persona")
    except PackageNotFoundError:
        return "0"


def manifest_definition(facts: CoverFacts, title: str, mime: str) -> dict[str, Any]:
    actions: list[dict[str, Any]] = [
        {
            "action": "c2pa.created",
            "digitalSourceType": TRAINED_ALGORITHMIC_MEDIA,
            "softwareAgent": {"name": "Persona", "version": _version()},
            "when": facts.created_at,
        }
    ]
    return {
        "claim_generator_info": [{"name": "Persona", "version": _version()}],
        "title": title,
        "format": mime,
        "assertions": [
            {"label": "c2pa.actions.v2", "data": {"actions": actions}},
            {"label": ASSERTION, "data": facts.as_dict()},
        ],
    }


def _tag_text(facts: CoverFacts) -> str:
    bits = [DISCLOSURE, f"kind={facts.kind}", f"created={facts.created_at}"]
    if facts.model_sha256:
        bits.append(f"model_sha256={facts.model_sha256}")
    bits.append(f"consent={facts.consent}")
    bits.append(f"watermark={'yes' if facts.marked else 'no'}")
    return "; ".join(bits)


def write_tags(path: Path, facts: CoverFacts) -> bool:
    """Player-visible tags; False for a container mutagen cannot tag."""
    import mutagen
    from mutagen.id3 import COMM, ID3, TIT2, TSSE, TXXX

    suffix = path.suffix.lower()
    text = _tag_text(facts)
    if suffix in (".wav", ".mp3"):
        if suffix == ".wav":
            from mutagen.wave import WAVE

            audio = WAVE(path)
            if audio.tags is None:
                audio.add_tags()
            tags = audio.tags
        else:
            try:
                tags = ID3(path)
            except mutagen.id3.ID3NoHeaderError:
                tags = ID3()
        tags.add(COMM(encoding=3, lang="eng", desc="", text=DISCLOSURE))
        tags.add(TXXX(encoding=3, desc="AI_GENERATED", text=text))
        tags.add(TSSE(encoding=3, text="Persona"))
        if facts.title:
            tags.add(TIT2(encoding=3, text=facts.title))
        if suffix == ".wav":
            audio.save()
        else:
            tags.save(path)
        return True
    f = mutagen.File(path)
    if f is None:
        return False
    if f.tags is None:
        f.add_tags()
    if suffix == ".m4a":
        f.tags["\xa9cmt"] = [DISCLOSURE]
        f.tags["\xa9too"] = ["Persona"]
        f.tags["----:org.persona:AI_GENERATED"] = [text.encode()]
        if facts.title:
            f.tags["\xa9nam"] = [facts.title]
    else:  # Vorbis comments (flac, ogg, opus)
        f.tags["COMMENT"] = [DISCLOSURE]
        f.tags["ENCODER"] = ["Persona"]
        f.tags["AI_GENERATED"] = [text]
        if facts.title:
            f.tags["TITLE"] = [facts.title]
    f.save()
    return True


def sign(src: Path, dst: Path, facts: CoverFacts, settings: Settings) -> None:
    """Write ``src`` with an embedded, signed C2PA manifest to ``dst``."""
    import c2pa

    from persona.provenance.identity import load_identity

    ident = load_identity(settings)
    mime = SIGNED_MIME[src.suffix.lower()]
    definition = manifest_definition(facts, facts.title or src.name, mime)
    try:
        info = c2pa.C2paSignerInfo(
            alg=b"es256", sign_cert=ident.chain_pem, private_key=ident.key_pem, ta_url=None
        )
        with (
            c2pa.Signer.from_info(info) as signer,
            c2pa.Builder(json.dumps(definition)) as builder,
            open(src, "rb") as s,
            open(dst, "w+b") as d,
        ):
            builder.sign(signer, mime, s, d)
    except c2pa.C2paError as exc:
        raise PersonaError(
            "signing_failed",
            f"could not sign the content credentials: {exc}",
            status=500,
            params={"reason": str(exc)},
        ) from exc


def credential_file(path: str | Path, facts: CoverFacts, settings: Settings) -> Credentials:
    """Tag and sign ``path`` in place; the file is replaced atomically only when both worked."""
    path = Path(path)
    if facts.kind not in KINDS:
        raise ValueError(f"unknown output kind {facts.kind!r}")
    signed = path.suffix.lower() in SIGNED_MIME
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".credentials-") as tmp:
        tagged = Path(tmp) / f"tagged{path.suffix}"
        shutil.copyfile(path, tagged)
        ok = write_tags(tagged, facts)
        if signed:
            with atomic_path(path) as out:
                sign(tagged, out, facts, settings)
        else:
            os.replace(tagged, path)
    return Credentials(path=path, signed=signed, tagged=ok)


def read_credentials(path: str | Path) -> dict[str, Any] | None:
    """The active manifest of ``path`` as a dict (c2pa's Reader), or None when it has none."""
    import c2pa

    try:
        with c2pa.Reader(str(path)) as reader:
            store = json.loads(reader.json())
    except c2pa.C2paError:
        return None
    active = store.get("active_manifest")
    manifest = store.get("manifests", {}).get(active) if active else None
    if manifest is None:
        return None
    manifest = dict(manifest)
    manifest["validation_state"] = store.get("validation_state")
    return manifest
