"""The cover pipeline: decode -> separate -> convert -> mix -> encode.

``make_cover(settings, request, progress, cancel)`` reports progress over those five named stages
and returns a ``CoverResult``. Working files live in a private folder under
``settings.cache_dir / "work"`` and are removed at the end; the cover appears atomically, so a
failure or a cancel leaves no partial file. Memory stays bounded for long songs: after decoding,
audio moves between stages as float WAV files and every stage works on pieces of them
(separation in 60 s segments, conversion in pieces of at most ``CONVERT_PIECE_S`` cut at the
quietest 50 ms near each boundary, as RVC's own pipeline cuts its windows at quiet points, and
the mixer in 1.5 s blocks).

``convert_fn`` is injectable (tests pass a stand-in); by default it is
``persona.rvc.convert.convert_audio``. ``resolve_model`` turns ``request.model`` into what the
engine takes (a library entry or a ``.pth`` path): the callers that know the library (the CLI, the
cover job) pass ``persona.library.resolve_model_ref``; without one, ``request.model`` is a path.
The pipeline itself never looks a name up.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from persona import provenance
from persona.audio.effects import pitch_shift_chain, vocal_chain
from persona.audio.mix import MixStem, mix_to_file
from persona.audio.resample import resample
from persona.cover.pitch import f0_profile, suggest_shift
from persona.cover.request import MIN_SONG_S, STAGES, CoverRequest, CoverResult
from persona.errors import PersonaError
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress, staged
from persona.runtime import release_memory, tune_allocator
from persona.separation.cache import file_sha256
from persona.separation.models import resolve_model_name
from persona.separation.pipeline import SeparationOptions, check_assets, model_installed, separate_song
from persona.settings import Settings

log = logging.getLogger(__name__)

OUTPUT_RATES = (44100, 48000)
CONVERT_PIECE_S = 60.0
_QUIET_WINDOW_S = 5.0  # search this far before a piece boundary for the quietest spot

ConvertFn = Callable[..., tuple[np.ndarray, int]]


def _default_convert() -> ConvertFn:
    from persona.rvc.convert import convert_audio

    return convert_audio


@contextlib.contextmanager
def _workdir(settings: Settings) -> Iterator[Path]:
    root = settings.cache_dir / "work"
    root.mkdir(parents=True, exist_ok=True)
    for stale in root.glob("cover-*"):  # left by a worker that was killed: gone after a day
        with contextlib.suppress(OSError):
            if time.time() - stale.stat().st_mtime > 86400:
                shutil.rmtree(stale, ignore_errors=True)
    path = Path(tempfile.mkdtemp(prefix="cover-", dir=root))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def _output_rate(sr: int) -> int:
    """44.1 or 48 kHz: keep the song's rate when it is one of them, else the nearest sensible one."""
    if sr in OUTPUT_RATES:
        return sr
    return 48000 if sr > 48000 or sr % 8000 == 0 and sr > 24000 else 44100


def _default_output(settings: Settings, request: CoverRequest) -> Path:
    model = Path(request.model).stem if request.model.endswith(".pth") else request.model
    return settings.covers_dir / f"{request.song.stem} ({model}).{request.format}"


def decode_song(settings: Settings, song: Path, work: Path) -> tuple[Path, int, int]:
    """Decode ``song`` to a stereo float WAV at 44.1/48 kHz; returns (path, rate, frames).

    Decoded, cut to its first two channels and resampled block by block (``load_audio``), so
    memory is the 44.1/48 kHz stereo result, whatever the file's channels and rate."""
    from persona.audio.encode import write_sf
    from persona.audio.io import ensure_not_silent, load_audio, probe_audio

    out_sr = _output_rate(probe_audio(song).sample_rate)
    audio, sr = load_audio(song, sr=out_sr, mono=False, max_seconds=settings.max_song_seconds, max_channels=2)
    if audio.shape[0] == 1:
        audio = np.repeat(audio, 2, axis=0)
    if audio.shape[1] < MIN_SONG_S * sr:
        raise PersonaError(
            "audio_too_short",
            f"{song.name} is {audio.shape[1] / sr:.3f} s long; a song needs at least {MIN_SONG_S:g} s",
            params={"seconds": round(audio.shape[1] / sr, 3), "min_seconds": MIN_SONG_S},
        )
    ensure_not_silent(audio, song.name)
    path = work / "song.wav"
    write_sf(path, audio, sr, "WAV", "FLOAT")
    return path, sr, audio.shape[1]


def _read_mono(path: Path) -> tuple[np.ndarray, int]:
    data, sr = sf.read(str(path), dtype="float32", always_2d=True)
    return data.mean(axis=1), sr


def _piece_bounds(x: np.ndarray, sr: int, piece_s: float) -> list[tuple[int, int]]:
    """Cut points at most ``piece_s`` apart, each at the quietest 50 ms before its nominal spot."""
    n = len(x)
    piece = int(piece_s * sr)
    if n <= piece:
        return [(0, n)]
    hop = int(0.05 * sr)
    bounds, start = [], 0
    while n - start > piece:
        lo = start + piece - int(_QUIET_WINDOW_S * sr)
        seg = x[lo : start + piece]
        frames = len(seg) // hop
        if frames:
            energy = (seg[: frames * hop].reshape(frames, hop) ** 2).sum(axis=1)
            cut = lo + int(np.argmin(energy)) * hop + hop // 2
        else:
            cut = start + piece
        bounds.append((start, cut))
        start = cut
    bounds.append((start, n))
    return bounds


def convert_vocal(
    settings: Settings,
    request: CoverRequest,
    vocal_path: Path,
    out_path: Path,
    pitch: float,
    convert_fn: ConvertFn,
    progress: ProgressFn,
    cancel: CancelToken,
    label: str = "convert_lead",
    *,
    model: Any = None,
) -> None:
    """Convert a vocal stem piece by piece into a mono float WAV at the stem's rate and length.

    ``model`` is the resolved ``request.model`` (library entry or .pth path); default: its path.
    """
    if model is None:
        model = model_path(settings, request.model)
    x, sr = _read_mono(vocal_path)
    options = _with_pitch(request, pitch)
    pieces = _piece_bounds(x, sr, CONVERT_PIECE_S)
    kwargs: dict[str, Any] = {"index": str(request.index)} if request.index else {}
    with sf.SoundFile(str(out_path), "w", sr, 1, subtype="FLOAT") as out:
        for i, (a, b) in enumerate(pieces):
            cancel.check()
            chunk = x[a:b]
            if float(np.max(np.abs(chunk), initial=0.0)) < 1e-4:  # silence converts to silence
                out.write(np.zeros(b - a, np.float32))
                continue

            def sub(stage: str, f: float, message: str = "", _i: int = i, **kw: Any) -> None:
                progress(
                    "convert",
                    (_i + min(max(f, 0.0), 1.0)) / len(pieces),
                    msg(label),  # per-piece windows mean nothing to a person
                    **kw,
                )

            y, ysr = convert_fn(settings, model, chunk, sr, options, sub, cancel, **kwargs)
            y = np.asarray(y, dtype=np.float32).reshape(-1)
            if ysr != sr:
                y = resample(y, ysr, sr)
            y = y[: b - a] if len(y) >= b - a else np.pad(y, (0, b - a - len(y)))
            out.write(y)
            progress("convert", (i + 1) / len(pieces), msg(label))


def _with_pitch(request: CoverRequest, pitch: float):
    import dataclasses

    return dataclasses.replace(request.conversion, pitch=float(pitch))


def _voice_profile(model: Any) -> dict[str, float] | None:
    """The library entry's recorded voice range (a bare .pth has none)."""
    profile = (getattr(model, "metadata", None) or {}).get("voice_profile")
    return profile if isinstance(profile, dict) else None


QUALITY_WINDOW_S = 30.0


def cover_quality(
    model: Any, request: CoverRequest, source: Path, converted: Path, pitch: float
) -> dict[str, Any] | None:
    """Speaker similarity + F0 fidelity of the converted vocal on its loudest 30 s (a bounded cost).

    The target voice is the embedding a trained model keeps; other models get similarity
    ``unavailable`` with the reason. Never fails the cover: an error becomes the reason.
    """
    try:
        from persona.quality import F0, SIMILARITY, evaluate, loudest_window, voice_from_metadata

        metadata = getattr(model, "metadata", None)  # a library entry's; a bare .pth has none
        src, sr = _read_mono(source)
        out, osr = _read_mono(converted)
        a, b = loudest_window(src, sr, QUALITY_WINDOW_S)
        scale = osr / sr
        scores = evaluate(
            out[int(a * scale) : int(b * scale)],
            osr,
            src[a:b],
            sr,
            voice=voice_from_metadata(metadata),
            conversion_f0=request.conversion.f0_method,
            shift=pitch,
            metrics=(SIMILARITY, F0),
        )
        if scores["speaker_similarity"] is None and voice_from_metadata(metadata) is None:
            scores["unavailable"]["speaker_similarity"] = (
                "the model carries no recordings of its voice to compare with"
            )
        scores["window_s"] = round((b - a) / sr, 2)
        return scores
    except Exception as exc:  # the report is a bonus: it never fails a cover
        log.warning("cover quality failed: %s", exc)
        return {
            "unavailable": {"speaker_similarity": str(exc), "f0_corr": str(exc), "f0_rmse_cents": str(exc)}
        }


def model_path(settings: Settings, ref: str) -> Path:
    """``request.model`` as a ``.pth`` path (no library lookup: see ``make_cover``'s ``resolve_model``)."""
    return Path(ref).expanduser()


def _index_in_use(model: Any, request: CoverRequest) -> bool:
    if request.conversion.index_rate <= 0:
        return False
    from persona.rvc.convert import resolve_model

    return resolve_model(model, request.index).index_path is not None


class _StageClock:
    """Forwards progress over the named stages and records each stage's wall time."""

    def __init__(self, progress: ProgressFn) -> None:
        self.for_stage = staged(progress, STAGES)
        self.times: dict[str, float] = {}
        self._current: str | None = None
        self._since = 0.0

    def enter(self, stage: str) -> ProgressFn:
        now = time.perf_counter()
        if self._current is not None:
            self.times[self._current] = self.times.get(self._current, 0.0) + now - self._since
        self._current, self._since = stage, now
        report = self.for_stage(stage)
        report(stage, 0.0, "")
        return report

    def enter_none(self) -> None:
        if self._current is not None:
            self.times[self._current] = self.times.get(self._current, 0.0) + time.perf_counter() - self._since
        self._current = None


def make_cover(
    settings: Settings,
    request: CoverRequest,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    *,
    convert_fn: ConvertFn | None = None,
    resolve_model: Callable[[Settings, str], Any] | None = None,
) -> CoverResult:
    """Make the cover described by ``request``; PersonaError for anything the user can fix.

    ``resolve_model(settings, request.model)``: a library name or path -> entry or path (default
    ``model_path``: a path only)."""
    request.validate()
    if not request.song.is_file():
        raise PersonaError("song_not_found", f"song file not found: {request.song}", status=404)
    tune_allocator()  # separation and conversion activations stay on the heap (persona.runtime)
    convert_fn = convert_fn or _default_convert()
    separation_model = resolve_model_name(
        request.separation_model, settings.resolved_device(), lambda name: model_installed(settings, name)
    )
    sep_options = SeparationOptions(separation_model, request.lead_backing, request.dereverb)
    # Fail before any work on what is missing: weights, the voice model.
    check_assets(settings, sep_options)
    provenance.check_ready(settings)  # a broken signing key fails here, not after the work
    model = (resolve_model or model_path)(settings, request.model)  # looked up here, once
    index_used = _index_in_use(model, request)
    output = request.output or _default_output(settings, request)
    clock = _StageClock(progress)
    with _workdir(settings) as work:
        report = clock.enter("decode")
        song_wav, sr, frames = decode_song(settings, request.song, work)
        song_sha = file_sha256(request.song)
        report("decode", 1.0, msg("decode_song", seconds=round(frames / sr)))
        cancel.check()

        report = clock.enter("separate")
        stems = separate_song(settings, song_wav, song_sha, sr, sep_options, progress=report, cancel=cancel)
        release_memory()  # separation's freed activations go back before the conversion grows
        cancel.check()

        report = clock.enter("convert")
        vocal, vsr = _read_mono(stems.to_convert)
        suggested = suggest_shift(f0_profile(resample(vocal, vsr, 16000), 16000), _voice_profile(model))
        del vocal
        pitch = float(suggested if request.pitch_auto and suggested is not None else request.conversion.pitch)
        if request.pitch_auto and suggested is None:
            pitch = 0.0
        converted = work / "converted.wav"
        convert_vocal(
            settings, request, stems.to_convert, converted, pitch, convert_fn, report, cancel, model=model
        )
        quality = cover_quality(model, request, stems.to_convert, converted, pitch)
        backing_path = stems.backing if request.lead_backing and request.backing != "off" else None
        if backing_path is not None and request.backing == "converted":
            converted_backing = work / "converted_backing.wav"
            convert_vocal(
                settings,
                request,
                backing_path,
                converted_backing,
                pitch,
                convert_fn,
                report,
                cancel,
                label="convert_backing",
                model=model,
            )
            backing_path = converted_backing
        cancel.check()

        report = clock.enter("mix")
        shift = pitch if request.key_mode == "song" else 0.0
        mix_stems = [
            MixStem(
                converted, request.vocal_gain_db, vocal_chain(request.reverb, request.compress), "vocals"
            ),
            MixStem(
                stems.instrumental, request.instrumental_gain_db, pitch_shift_chain(shift), "instrumental"
            ),
        ]
        if backing_path is not None:
            backing_fx = (
                pitch_shift_chain(shift)
                if request.backing == "original"
                else vocal_chain(request.reverb, False)
            )
            mix_stems.append(MixStem(backing_path, request.backing_gain_db, backing_fx, "backing"))
        state = {"stage": "mix", "report": report}
        marker = provenance.new_marker(settings, sr, 2)
        facts = provenance.model_facts(model, "cover", marked=marker is not None, title=Path(output).stem)
        sealed: list[provenance.Credentials] = []

        def mix_progress(stage: str, f: float, message: str = "", **kw: Any) -> None:
            if f >= 0.5 and state["stage"] == "mix":  # mix_to_file's second pass encodes
                state["stage"], state["report"] = "encode", clock.enter("encode")
            local = f / 0.5 if state["stage"] == "mix" else (f - 0.5) / 0.5
            state["report"](state["stage"], local, message, **kw)

        mix = mix_to_file(
            mix_stems,
            output,
            sr=sr,
            frames=frames,
            format=request.format,
            target_lufs=request.target_lufs,
            workdir=work,
            progress=mix_progress,
            cancel=cancel,
            mark=marker,
            seal=lambda path: sealed.append(provenance.credential_file(path, facts, settings)),
        )
        if state["stage"] == "mix":
            clock.enter("encode")
        clock.enter_none()
    release_memory()  # the freed activations go back to the system between jobs
    progress("encode", 1.0, msg("encode_cover"))
    return CoverResult(
        path=mix.path,
        duration_s=mix.duration,
        sample_rate=sr,
        format=request.format,
        pitch=pitch,
        suggested_pitch=suggested,
        stages={name: round(clock.times.get(name, 0.0), 3) for name, _ in STAGES},
        stems_cached=stems.cached,
        loudness_lufs=mix.loudness_lufs,
        true_peak_db=mix.true_peak_db,
        index_used=index_used,
        quality=quality,
        provenance={"watermark": marker is not None, "c2pa": sealed[0].signed, "tags": sealed[0].tagged},
    )
