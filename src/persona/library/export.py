"""Taking one's data: everything of one owner as one zip, and importing such a zip elsewhere.

The zip (``FORMAT``) holds ``persona-export.json`` (what is inside: models with their metadata,
covers with theirs, trainings, the person's finished jobs as the API shows them) and the owner's
folders as they are on disk: ``models/<name>/`` (model, index, metadata, consent record),
``covers/<id>/`` (the cover, the original song, metadata) and ``training/<name>/`` (saves,
previews, checkpoints). The models also work elsewhere: each folder's ``model.pth`` is an RVC file.

Import reads the zip as untrusted (``ziputil``: no climbing names, links, bombs or lies about
sizes); each model goes through ``ModelLibrary.add`` (checked like any upload; a name taken
already gets `` (2)``), each cover through ``CoverLibrary.add`` (a new id), each training folder
is copied when its name is free. Jobs are not imported (they ran on the other server).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

from persona.clock import now_iso
from persona.errors import PersonaError
from persona.fsutil import atomic_path
from persona.library.covers import CoverLibrary
from persona.library.models import MODEL_FILE, ModelLibrary
from persona.library.ziputil import extract_member, scan_zip
from persona.names import validate_model_name
from persona.settings import Settings

FORMAT = "persona-export/1"
MANIFEST = "persona-export.json"
MAX_MEMBERS = 100_000
_COVER_KEYS = (
    "model",
    "song_name",
    "pitch",
    "duration_s",
    "created_at",
    "audio_file",
    "original_file",
    "id",
    "job_id",
)


def _add_folder(zf: zipfile.ZipFile, folder: Path, prefix: str) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            zf.write(path, f"{prefix}/{path.relative_to(folder).as_posix()}")


def export_person(settings: Settings, out_path: str | Path, jobs: list[dict[str, Any]] | None = None) -> Path:
    """Write ``settings.owner``'s models, covers and trainings (and ``jobs``, as given) to a zip."""
    models = ModelLibrary(settings).list()
    covers = CoverLibrary(settings).list()
    trainings = (
        sorted(p.name for p in settings.training_dir.iterdir() if p.is_dir() and not p.name.startswith("."))
        if settings.training_dir.is_dir()
        else []
    )
    manifest = {
        "format": FORMAT,
        "exported_at": now_iso(),
        "models": [{"name": m.name, "folder": f"models/{m.name}", "metadata": m.to_dict()} for m in models],
        "covers": [{"id": c.id, "folder": f"covers/{c.id}", "metadata": c.metadata} for c in covers],
        "trainings": [{"name": t, "folder": f"training/{t}"} for t in trainings],
        "jobs": jobs or [],
    }
    out_path = Path(out_path)
    with atomic_path(out_path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2))
        for m in models:
            _add_folder(zf, m.pth_path.parent, f"models/{m.name}")
        for c in covers:
            _add_folder(zf, c.audio_path.parent, f"covers/{c.id}")
        for t in trainings:
            _add_folder(zf, settings.training_dir / t, f"training/{t}")
    return out_path


def count_models(zip_path: str | Path) -> int:
    """How many models an export zip brings (for the quota check before anything is kept)."""
    with _open(zip_path) as zf:
        return len(_manifest(zf)["models"])


def _open(zip_path: str | Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise PersonaError("zip_invalid", "the upload is not a readable .zip file") from exc


def _manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    try:
        with zf.open(MANIFEST) as fh:
            data = json.loads(fh.read(16 << 20))
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise PersonaError(
            "export_invalid", f"the zip is not a Persona export (no readable {MANIFEST})"
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PersonaError("export_invalid", f"the zip is not a Persona export ({FORMAT})")
    for key in ("models", "covers", "trainings"):
        if not isinstance(data.get(key), list) or not all(isinstance(x, dict) for x in data[key]):
            raise PersonaError("export_invalid", f"the export's list of {key} is damaged")
    return data


def _members(files: list[zipfile.ZipInfo], folder: object) -> dict[str, zipfile.ZipInfo]:
    """The zip's files under ``folder/`` by their path inside it."""
    if not isinstance(folder, str) or not folder:
        return {}
    prefix = folder.rstrip("/") + "/"
    return {i.filename[len(prefix) :]: i for i in files if i.filename.startswith(prefix)}


def _free_name(library: ModelLibrary, name: str) -> str:
    base = validate_model_name(name)
    if not library.exists(base):
        return base
    for n in range(2, 1000):
        candidate = validate_model_name(f"{base[:90]} ({n})")
        if not library.exists(candidate):
            return candidate
    raise PersonaError("model_exists", f"a model named {base!r} already exists", status=409)


def import_person(settings: Settings, zip_path: str | Path) -> dict[str, list[str]]:
    """Add what an export zip holds to ``settings.owner``'s library; returns what was added."""
    added: dict[str, list[str]] = {"models": [], "covers": [], "trainings": []}
    models, covers = ModelLibrary(settings), CoverLibrary(settings)
    budget = [settings.quota_bytes or settings.max_zip_uncompressed_bytes]
    with _open(zip_path) as zf, tempfile.TemporaryDirectory(dir=settings.jobs_dir) as work:
        files = scan_zip(zf, max_members=MAX_MEMBERS, max_bytes=budget[0])
        manifest = _manifest(zf)
        work_dir = Path(work)

        def take(info: zipfile.ZipInfo, dest: Path) -> Path:
            dest.parent.mkdir(parents=True, exist_ok=True)
            try:
                extract_member(zf, info, dest, budget=budget)
            except (zipfile.BadZipFile, EOFError, ValueError) as exc:
                raise PersonaError("zip_invalid", f"the zip is damaged ({exc})") from exc
            return dest

        for item in manifest["models"]:
            inside = _members(files, item.get("folder"))
            if MODEL_FILE not in inside:
                continue
            pth = take(inside[MODEL_FILE], work_dir / "m" / MODEL_FILE)
            index_name = next((n for n in inside if "/" not in n and n.endswith(".index")), None)
            index = take(inside[index_name], work_dir / "m" / index_name) if index_name else None
            meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
            keep = {
                k: meta[k]
                for k in ("voice_profile", "quality", "training", "suggested_pitch", "note")
                if k in meta
            }
            entry = models.add(
                _free_name(models, str(item.get("name") or "imported")),
                pth,
                index,
                source=str(meta.get("source") or "import"),
                metadata={**keep, "imported_from": "persona export"},
                move=True,
            )
            added["models"].append(entry.name)
            shutil.rmtree(work_dir / "m", ignore_errors=True)
        for item in manifest["covers"]:
            inside = _members(files, item.get("folder"))
            meta = item.get("metadata") if isinstance(item.get("metadata"), dict) else {}
            audio_name = meta.get("audio_file")
            if not isinstance(audio_name, str) or audio_name not in inside:
                continue
            audio = take(inside[audio_name], work_dir / "c" / PurePosixPath(audio_name).name)
            original_name = meta.get("original_file")
            original = (
                take(inside[original_name], work_dir / "c" / PurePosixPath(original_name).name)
                if isinstance(original_name, str) and original_name in inside
                else None
            )
            entry = covers.add(
                audio,
                model=str(meta.get("model") or ""),
                song_name=str(meta.get("song_name") or "song"),
                pitch=meta.get("pitch") if isinstance(meta.get("pitch"), (int, float)) else 0,
                duration_s=meta.get("duration_s")
                if isinstance(meta.get("duration_s"), (int, float))
                else None,
                metadata={k: v for k, v in meta.items() if k not in _COVER_KEYS},
                original_path=original,
            )
            added["covers"].append(entry.id)
            shutil.rmtree(work_dir / "c", ignore_errors=True)
        for item in manifest["trainings"]:
            try:
                name = validate_model_name(str(item.get("name") or ""))
            except PersonaError:
                continue
            target = settings.training_dir / name
            inside = _members(files, item.get("folder"))
            if target.exists() or not inside:
                continue
            staging = work_dir / "t" / name
            for rel, info in inside.items():
                take(info, staging.joinpath(*PurePosixPath(rel).parts))
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(staging), str(target))
            added["trainings"].append(name)
    return added
