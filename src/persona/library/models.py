"""The voice-model library of one owner: ``settings.models_dir/<name>/`` on disk, one row each in
the catalogue (``persona.library.catalogue``) saying that it exists, whose it is and its size.

Names are per person: ``ModelLibrary(settings)`` is ``settings.owner``'s library, and another
person's model of the same name is neither seen nor touched. Each model folder holds ``model.pth`` (the RVC small-model file), optionally one ``.index`` that
keeps its RVC file name (``added_IVF…_<name>_v2.index``), and ``metadata.json``. A model appears
atomically: it is built in a ``.tmp-*`` folder beside the others and renamed into place, so a
crash never leaves half a model. Names go through ``validate_model_name``; a name that exists
(compared case-insensitively, for case-insensitive file systems) is ``model_exists`` (409).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path, PurePosixPath
from typing import Any

from persona.catalogue.store import Catalogue
from persona.clock import now_iso
from persona.consent import record as consent_record
from persona.errors import PersonaError
from persona.fsutil import atomic_path, atomic_write_text, folder_lock
from persona.library import facts as model_facts
from persona.library.validate import inspect_index, inspect_model
from persona.library.ziputil import choose_members, extract_member, printable_name, scan_zip
from persona.names import suggest_model_name, validate_model_name
from persona.settings import Settings

MODEL_FILE = "model.pth"
META_FILE = "metadata.json"
_RECONCILED: set[tuple[Any, Path]] = set()  # (database, folder) pairs entered in this process
_PUBLIC_KEYS = ("version", "sample_rate", "f0", "has_index", "source", "created_at", "size_bytes")


@dataclasses.dataclass(frozen=True)
class ModelEntry:
    name: str
    pth_path: Path
    index_path: Path | None
    metadata: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """The API's model object: ``{name, version, sample_rate, f0, has_index, source, created_at, size_bytes, ...}``."""
        out: dict[str, Any] = {"name": self.name}
        out.update({k: self.metadata.get(k) for k in _PUBLIC_KEYS})
        # Entries added before the f0 convention was recorded: their .pth has no record either.
        out["f0_unvoiced"] = self.metadata.get("f0_unvoiced", "zero")
        for key in (
            "info",
            "persona",
            "warnings",
            "embedder",
            "merged_from",
            "index_file",
            "imported_from",
            "epochs",
            "voice_profile",
            "quality",
            "training",
            "suggested_pitch",
            "note",
        ):
            if key in self.metadata:
                out[key] = self.metadata[key]
        # Whose voice, and may it be used: a live-read consent, an import's confirmation, or none.
        out["consent"] = consent_record.public(consent_record.read(self.pth_path.parent))
        return out


class ModelLibrary:
    """Add, list, import, export and delete voice models. ``in_use(name)`` refuses deletes."""

    def __init__(self, settings: Settings, *, in_use: Callable[[str], bool] | None = None) -> None:
        self.settings = settings
        self.owner = settings.owner
        self.root = settings.models_dir
        self._in_use = in_use
        self.catalogue = Catalogue(settings)
        if (self.catalogue._db.url, self.root) not in _RECONCILED:
            self.reconcile()

    # ---- reading -------------------------------------------------------------------------
    def _dirs(self) -> Iterator[Path]:
        if not self.root.is_dir():
            return
        for child in sorted(self.root.iterdir()):
            if child.is_dir() and not child.name.startswith(".") and (child / MODEL_FILE).is_file():
                yield child

    def reconcile(self) -> None:
        """Make the catalogue say what the owner's folder holds: enter folders without a row (a
        home from before the catalogue, a crash between rename and row), drop rows whose folder
        is gone. Runs once per process and library, and on every ``list``."""
        with self._lock():
            on_disk = {d.name: d for d in self._dirs()}
            rows = {r["name"]: r for r in self.catalogue.models(self.owner)}
            for name, folder in on_disk.items():
                if name not in rows:
                    meta = self._entry(folder).metadata
                    size = meta.get("size_bytes")
                    if not isinstance(size, int):
                        size = sum(p.stat().st_size for p in folder.iterdir() if p.is_file())
                    self.catalogue.put_model(
                        self.owner,
                        name,
                        source=str(meta.get("source") or ""),
                        size_bytes=size,
                        created_at=str(meta.get("created_at") or ""),
                    )
            for name in rows:
                if name not in on_disk:
                    self.catalogue.drop_model(self.owner, name)
        _RECONCILED.add((self.catalogue._db.url, self.root))

    def _entry(self, folder: Path) -> ModelEntry:
        try:
            meta = json.loads((folder / META_FILE).read_text("utf-8"))
        except (OSError, ValueError):
            meta = {}
        indexes = sorted(folder.glob("*.index"))
        index = indexes[0] if indexes else None
        meta["has_index"] = index is not None
        return ModelEntry(name=folder.name, pth_path=folder / MODEL_FILE, index_path=index, metadata=meta)

    def list(self) -> list[ModelEntry]:
        self.reconcile()
        rows = self.catalogue.models(self.owner)
        entries = [
            self._entry(self.root / r["name"]) for r in rows if (self.root / r["name"] / MODEL_FILE).is_file()
        ]
        return sorted(entries, key=lambda e: str(e.metadata.get("created_at", "")), reverse=True)

    def _find(self, name: str) -> Path | None:
        """The owner's model folder for ``name`` (case-insensitive), from the catalogue."""
        row = self.catalogue.model(self.owner, name)
        if row is None and any(d.name.casefold() == name.casefold() for d in self._dirs()):
            self.reconcile()  # a folder the catalogue has not seen yet
            row = self.catalogue.model(self.owner, name)
        if row is None or not (self.root / row["name"] / MODEL_FILE).is_file():
            return None
        return self.root / row["name"]

    def exists(self, name: str) -> bool:
        try:
            return self._find(validate_model_name(name)) is not None
        except PersonaError:
            return False

    def get(self, name: str) -> ModelEntry:
        try:
            norm = validate_model_name(name)
        except PersonaError:
            norm = None
        folder = self._find(norm) if norm else None
        if folder is None or folder.name != norm:
            raise PersonaError("model_not_found", f"no model named {name!r}", status=404)
        return self._entry(folder)

    # ---- writing -------------------------------------------------------------------------
    def _lock(self) -> contextlib.AbstractContextManager[None]:
        return folder_lock(self.root)

    def _tmpdir(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        tmp = self.root / f".tmp-{uuid.uuid4().hex}"
        tmp.mkdir()
        return tmp

    def check_new_name(self, name: str) -> str:
        """Validate ``name`` and make sure no model has it yet, nor a queued or running job (a
        training reserves its name): ``model_exists``, 409."""
        norm = validate_model_name(name)
        self._refuse_taken(norm)
        return norm

    def _refuse_taken(self, norm: str) -> None:
        if self._find(norm) is not None:
            raise PersonaError("model_exists", f"a model named {norm!r} already exists", status=409)
        if self._in_use is not None and self._in_use(norm):
            raise PersonaError(
                "model_exists",
                f"a training of a model named {norm!r} is queued or running",
                status=409,
                params={"reserved": True},
            )

    @contextlib.contextmanager
    def reserving(self, name: str) -> Iterator[str]:
        """Hold the library lock while a job that will create ``name`` is recorded (its row is
        the reservation ``in_use`` sees): the same lock ``add`` checks under, so an upload and a
        training of one name cannot both pass."""
        norm = validate_model_name(name)
        with self._lock():
            self._refuse_taken(norm)
            yield norm

    def add(
        self,
        name: str,
        pth_path: str | Path,
        index_path: str | Path | None = None,
        *,
        source: str,
        metadata: dict[str, Any] | None = None,
        move: bool = False,
        replace: bool = False,
        shown_as: tuple[str | None, str | None] = (None, None),
        carried: dict[str, Any] | None = None,
    ) -> ModelEntry:
        """Validate and add a model; ``move`` takes the files instead of copying them.

        ``replace`` swaps an existing model of that name atomically (training uses it to update
        the model it saved at an earlier epoch); otherwise an existing name is ``model_exists``.
        ``shown_as`` names the model and index files as the person knows them (messages).
        ``carried``: facts read back from an exported zip (``facts.py``); the ``.pth``'s own record
        wins on the f0 convention and embedder.
        """
        norm = validate_model_name(name)
        pth_path = Path(pth_path)
        info = inspect_model(pth_path, shown_as[0])
        index_info = inspect_index(index_path, info["version"], shown_as[1]) if index_path else None
        tmp = self._tmpdir()
        try:
            (shutil.move if move else shutil.copyfile)(str(pth_path), str(tmp / MODEL_FILE))
            index_name = None
            if index_path:
                index_name = _safe_index_name(Path(index_path).name)
                (shutil.move if move else shutil.copyfile)(str(index_path), str(tmp / index_name))
            meta: dict[str, Any] = {
                "name": norm,
                "version": info["version"],
                "sample_rate": info["sample_rate"],
                "f0": info["f0"],
                "f0_unvoiced": info.get("f0_unvoiced", "zero"),
                "info": info.get("info", ""),
                "embedder": info.get("embedder", "contentvec"),
                "has_index": index_name is not None,
                "index_file": index_name,
                "index_dim": index_info["dim"] if index_info else None,
                "source": source,
                "created_at": now_iso(),
            }
            for key, value in (carried or {}).items():
                if key in ("f0_unvoiced", "embedder") and info.get("persona"):
                    continue  # the model file says so itself
                meta[key] = value
            if info.get("persona"):
                meta["persona"] = info["persona"]
            if info.get("warnings"):
                meta["warnings"] = list(info["warnings"])
            meta.update(metadata or {})
            meta["size_bytes"] = sum(p.stat().st_size for p in tmp.iterdir())
            atomic_write_text(tmp / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2))
            with self._lock():
                existing = self._find(norm)
                if existing is not None and not replace:
                    raise PersonaError("model_exists", f"a model named {norm!r} already exists", status=409)
                if existing is None:
                    self._refuse_taken(norm)  # a queued or running training holds the name
                if existing is not None:
                    trash = self.root / f".trash-{uuid.uuid4().hex}"
                    os.rename(existing, trash)
                    self.catalogue.drop_model(self.owner, existing.name)
                    os.rename(tmp, self.root / norm)
                    shutil.rmtree(trash, ignore_errors=True)
                else:
                    os.rename(tmp, self.root / norm)
                self.catalogue.put_model(
                    self.owner,
                    norm,
                    source=source,
                    size_bytes=meta["size_bytes"],
                    created_at=meta["created_at"],
                )
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return self.get(norm)

    def import_zip(self, zip_path: str | Path, name: str | None = None) -> ModelEntry:
        """Import an RVC model zip (see ``ziputil`` for what is refused and which file is taken)."""
        zip_path = Path(zip_path)
        norm = self.check_new_name(name) if name is not None and str(name).strip() else None
        tmp = self._tmpdir()
        try:
            try:
                zf = zipfile.ZipFile(zip_path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise PersonaError("zip_invalid", "the upload is not a readable .zip file") from exc
            with zf:
                files = scan_zip(
                    zf,
                    max_members=self.settings.max_zip_members,
                    max_bytes=self.settings.max_zip_uncompressed_bytes,
                )
                choice = choose_members(files)
                budget = [self.settings.max_zip_uncompressed_bytes]
                try:
                    extract_member(zf, choice.pth, tmp / "upload.pth", budget=budget)
                    index_tmp = None
                    if choice.index is not None:
                        index_tmp = tmp / _safe_index_name(
                            PurePosixPath(choice.index.filename.replace("\\", "/")).name
                        )
                        extract_member(zf, choice.index, index_tmp, budget=budget)
                    carried = _carried_facts(zf, files, budget)
                except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
                    raise PersonaError("zip_invalid", f"the zip is damaged ({exc})") from exc
            if norm is None:
                stem = PurePosixPath(choice.pth.filename.replace("\\", "/")).stem
                norm = self.check_new_name(
                    suggest_model_name(stem, fallback=suggest_model_name(zip_path.stem))
                )
            meta = {"imported_from": printable_name(choice.pth.filename), "note": choice.note}
            if choice.index is not None:
                meta["imported_index_from"] = printable_name(choice.index.filename)
            shown = tuple(
                printable_name(PurePosixPath(i.filename.replace("\\", "/")).name) if i else None
                for i in (choice.pth, choice.index)
            )
            return self.add(
                norm,
                tmp / "upload.pth",
                index_tmp,
                source="upload",
                metadata=meta,
                move=True,
                shown_as=shown,
                carried=carried,
            )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def export_zip(self, name: str, out_path: str | Path) -> Path:
        """Write ``<name>.pth`` (+ its ``.index``) at the zip's root, as RVC and Applio expect, and
        Persona's facts about the model beside them (``facts.py``)."""
        entry = self.get(name)
        out_path = Path(out_path)
        with (
            atomic_path(out_path) as tmp,
            zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf,
        ):
            zf.write(entry.pth_path, f"{entry.name}.pth")
            if entry.index_path is not None:
                zf.write(entry.index_path, entry.index_path.name)
            # what the .pth cannot hold (voice profile, embedding, quality): RVC and Applio ignore it
            zf.writestr(model_facts.FILE, model_facts.for_export(entry.metadata))
        return out_path

    @contextlib.contextmanager
    def using(self, name: str) -> Iterator[ModelEntry]:
        """Hold the library lock while a job that uses model ``name`` is recorded: ``delete``
        checks for such jobs under the same lock, so a cover and a DELETE cannot cross."""
        with self._lock():
            yield self.get(name)

    def delete(self, name: str) -> None:
        entry = self.get(name)
        with self._lock():  # the in-use check and the removal as one step (see ``using``)
            entry = self.get(name)
            if self._in_use is not None and self._in_use(entry.name):
                raise PersonaError(
                    "model_in_use", f"model {entry.name!r} is used by a running or queued job", status=409
                )
            trash = self.root / f".trash-{uuid.uuid4().hex}"
            os.rename(self.root / entry.name, trash)
            self.catalogue.drop_model(self.owner, entry.name)
        shutil.rmtree(trash, ignore_errors=True)


def resolve_model_ref(settings: Settings, ref: str | os.PathLike[str] | ModelEntry) -> ModelEntry | Path:
    """What a user's ``--model`` names: a ``.pth`` path (kept as a Path) or a library model's entry.

    A reference that ends in ``.pth``, holds a path separator or names an existing file is a path;
    anything else is a library name (``model_not_found``, 404, when there is none). The engine
    (``persona.rvc.convert``) takes the result and never looks names up itself.
    """
    if isinstance(ref, ModelEntry):
        return ref
    text = os.fspath(ref)
    path = Path(text).expanduser()
    if isinstance(ref, os.PathLike) or path.suffix.lower() == ".pth" or os.sep in text or path.is_file():
        return path
    return ModelLibrary(settings).get(text)


def _carried_facts(zf: zipfile.ZipFile, files: list[zipfile.ZipInfo], budget: list[int]) -> dict[str, Any]:
    """Persona's facts file at the zip's root, read within the zip's byte budget (``{}`` if none)."""
    info = next((i for i in files if i.filename == model_facts.FILE), None)
    if info is None or info.file_size > model_facts.MAX_BYTES:
        return {}
    with zf.open(info) as src:
        raw = src.read(model_facts.MAX_BYTES + 1)
    budget[0] -= len(raw)
    return model_facts.from_text(raw)


def _safe_index_name(raw: str) -> str:
    """Keep RVC's index file name when it is harmless, else a plain one."""
    base = raw.replace("\\", "/").rsplit("/", 1)[-1]
    if base.lower().endswith(".index"):
        stem = base[: -len(".index")]
        if (
            stem
            and len(base) <= 200
            and all(c.isalnum() or c in "-_. " for c in stem)
            and not stem.startswith(".")
        ):
            return base
    return "added.index"
