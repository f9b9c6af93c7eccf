"""The cover pipeline: decode -> separate -> convert -> mix -> encode.

``make_cover(settings, request, progress, cancel)`` reports progress over those five named stages
and returns a ``CoverResult``. Working files live in a private folder under
``settings.cache_dir / "work"`` and are removed at the end; the cover appears atomically, so a
failure or a cancel leaves no partial file. Memory stays bounded for long songs: after decoding,
audio moves between stages as float WAV files and every stage works on pieces of them.

The cover is made piece by piece (``persona.cover.stream``): the separator's segments (about 28 s)
go on to the conversion as each one is done, the vocal is cut into pieces (``persona.cover.pieces``:
the first ending ~22 s into the song, then at most 30 s, at quiet points; spans the separator left silent are not
converted), and with ``preview=PATH`` the converted pieces are mixed into a playable part as they
come (``persona.audio.preview``; ``progress`` metrics ``ready_s``/``ready_frames`` say how far it
reaches). The finished file is then mixed from the whole stems as before (``mix_to_file``).
Karaoke / de-reverb stems, a stems cache hit and ``pitch_auto`` (which needs the whole vocal's
range first) start the pieces once separation is complete.

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
from persona.audio.loudness import db_to_gain
from persona.audio.mix import MixStem, mix_to_file
from persona.audio.preview import PreviewMixer
from persona.audio.resample import resample
from persona.cover.pieces import Piece, PiecePlan, fade_edges
from persona.cover.pitch import f0_profile, suggest_shift
from persona.cover.request import MIN_SONG_S, STAGES, CoverRequest, CoverResult
from persona.cover.stream import CoverStream, replay
from persona.errors import STOPS, PersonaError
from persona.interrupt import interruptible
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress, staged
from persona.runtime import release_memory, tune_allocator
from persona.separation.cache import file_sha256
from persona.separation.models import resolve_model_name
from persona.separation.pipeline import SeparationOptions, check_assets, model_installed, separate_song
from persona.settings import Settings

log = logging.getLogger(__name__)

OUTPUT_RATES = (44100, 48000)
MIN_PIECE_S = 0.5  # shorter pieces (a song's last frames) are padded for the conversion
PREVIEW_MARK_CHUNK_S = 0.5  # the playable part's watermark holds back at most this + 0.25 s

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


def _piece_converter(
    settings: Settings,
    request: CoverRequest,
    model: Any,
    pitch: float,
    convert_fn: ConvertFn,
    sr: int,
    progress: Callable[[str, float, str], None],
    clock: _StageClock,
    cancel: CancelToken,
) -> Callable[[str, Piece, np.ndarray], np.ndarray]:
    """``convert(stem, piece, audio)``: one piece of a vocal stem in the model's voice (song rate)."""
    options = _with_pitch(request, pitch)
    kwargs: dict[str, Any] = {"index": str(request.index)} if request.index else {}
    labels = {"vocals": "convert_lead", "backing": "convert_backing"}

    def convert(stem: str, piece: Piece, audio: np.ndarray) -> np.ndarray:
        n = len(audio)
        if float(np.max(np.abs(audio), initial=0.0)) < 1e-4:  # silence converts to silence
            return np.zeros(n, np.float32)
        label = msg(labels.get(stem, "convert_lead"))  # per-piece windows mean nothing to a person

        def sub(stage: str, f: float, message: str = "", **kw: Any) -> None:
            progress(stem, piece.start + min(max(f, 0.0), 1.0) * (piece.end - piece.start), label)

        x = audio if n >= MIN_PIECE_S * sr else np.pad(audio, (0, int(MIN_PIECE_S * sr) - n))
        started = time.perf_counter()
        y, ysr = convert_fn(settings, model, x, sr, options, sub, cancel, **kwargs)
        y = np.asarray(y, dtype=np.float32).reshape(-1)
        if ysr != sr:
            y = resample(y, ysr, sr)
        y = y[:n] if len(y) >= n else np.pad(y, (0, n - len(y)))
        clock.add("convert", time.perf_counter() - started)
        return fade_edges(y, piece, sr)

    return convert


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
    except STOPS:
        raise
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
    """Forwards progress over the named stages and records each stage's wall time.

    Work done inside another stage (a piece converted while separation runs) is ``add``-ed to
    its own stage and taken out of the enclosing one."""

    def __init__(self, progress: ProgressFn) -> None:
        self.for_stage = staged(progress, STAGES)
        self.times: dict[str, float] = {}
        self._current: str | None = None
        self._since = 0.0
        self._nested = 0.0

    def _close(self) -> None:
        if self._current is not None:
            spent = time.perf_counter() - self._since - self._nested
            self.times[self._current] = self.times.get(self._current, 0.0) + spent
        self._nested = 0.0

    def enter(self, stage: str, report: bool = True) -> ProgressFn:
        self._close()
        self._current, self._since = stage, time.perf_counter()
        forward = self.for_stage(stage)
        if report:
            forward(stage, 0.0, "")
        return forward

    def add(self, stage: str, seconds: float) -> None:
        self.times[stage] = self.times.get(stage, 0.0) + seconds
        if self._current is not None:  # counted here, not again in the enclosing stage
            self._nested += seconds

    def enter_none(self) -> None:
        self._close()
        self._current = None


def _mix_stems(request: CoverRequest, pitch: float, paths: dict[str, Path]) -> list[MixStem]:
    """The finished mix's inputs (fresh effect instances each call: they keep state)."""
    shift = pitch if request.key_mode == "song" else 0.0
    stems = [
        MixStem(
            paths["vocals"], request.vocal_gain_db, vocal_chain(request.reverb, request.compress), "vocals"
        ),
        MixStem(
            paths["instrumental"], request.instrumental_gain_db, pitch_shift_chain(shift), "instrumental"
        ),
    ]
    if "backing" in paths:
        fx = pitch_shift_chain(shift) if request.backing == "original" else vocal_chain(request.reverb, False)
        stems.append(MixStem(paths["backing"], request.backing_gain_db, fx, "backing"))
    return stems


def _song_loudness(path: Path) -> float:
    """Integrated loudness of the decoded song (the playable part's gain before the whole is known)."""
    from persona.audio.loudness import LoudnessMeter

    with sf.SoundFile(str(path)) as f:
        meter = LoudnessMeter(f.samplerate, f.channels)
        for block in f.blocks(blocksize=1 << 18, dtype="float32", always_2d=True):
            meter.add(block.T)
    return meter.integrated()


class _StreamProgress:
    """One overall fraction while separation and conversion take turns (both only grow)."""

    def __init__(self, progress: ProgressFn, frames: int, converted: int) -> None:
        weights = dict(STAGES)
        total = sum(weights.values())
        self.progress = progress
        self.frames = max(frames, 1)
        self.parts = max(converted, 1)
        self.sep_w = weights["separate"] / total
        self.conv_w = weights["convert"] / total
        self.base = weights["decode"] / total
        self.sep = 0.0
        self.conv: dict[str, float] = {}
        self.ready: dict[str, Any] = {}

    def _overall(self) -> float:
        conv = sum(self.conv.values()) / (self.frames * self.parts)
        return self.base + self.sep_w * self.sep + self.conv_w * min(conv, 1.0)

    def separate(self, stage: str, fraction: float, message: str = "", **kw: Any) -> None:
        self.sep = max(self.sep, min(max(fraction, 0.0), 1.0))
        self.progress("separate", self._overall(), message, **kw, **self.ready)

    def convert(self, stem: str, position: float, message: str = "") -> None:
        self.conv[stem] = max(self.conv.get(stem, 0.0), position)
        self.progress("convert", self._overall(), message, **self.ready)

    def playable(self, frames: int, sr: int, pieces: int) -> None:
        ready = {"ready_s": round(frames / sr, 3), "ready_frames": int(frames), "ready_rate": sr}
        if ready != {k: self.ready.get(k) for k in ready}:
            self.ready = {**ready, "pieces_ready": pieces, "song_s": round(self.frames / sr, 3)}
            self.progress("convert", self._overall(), "", **self.ready)


def make_cover(
    settings: Settings,
    request: CoverRequest,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
    *,
    convert_fn: ConvertFn | None = None,
    resolve_model: Callable[[Settings, str], Any] | None = None,
    preview: Path | None = None,
    plan: PiecePlan = PiecePlan(),
) -> CoverResult:
    """Make the cover described by ``request``; PersonaError for anything the user can fix.

    ``resolve_model(settings, request.model)``: a library name or path -> entry or path (default
    ``model_path``: a path only). ``preview``: where the playable part grows while the cover is
    made (s16le stereo at the song's rate; ``progress`` metrics ``ready_s``/``ready_frames``)."""
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
    # Every model call of every stage looks at the token (persona.interrupt): Stop acts within a layer.
    with _workdir(settings) as work, interruptible(cancel):
        report = clock.enter("decode")
        song_wav, sr, frames = decode_song(settings, request.song, work)
        song_sha = file_sha256(request.song)
        report("decode", 1.0, msg("decode_song", seconds=round(frames / sr)))
        cancel.check()

        clock.enter("separate")
        pitch = float(request.conversion.pitch) if not request.pitch_auto else 0.0
        converted = {"vocals": work / "converted.wav"}
        if request.lead_backing and request.backing == "converted":
            converted["backing"] = work / "converted_backing.wav"
        total = _StreamProgress(progress, frames, len(converted))
        preview_mixer = None
        if preview is not None:
            plan_paths = {"vocals": Path(), "instrumental": Path()}
            if request.lead_backing and request.backing != "off":
                plan_paths["backing"] = Path()
            gain = db_to_gain(request.target_lufs - _song_loudness(song_wav))
            preview_mixer = PreviewMixer(
                preview,
                _mix_stems(request, pitch, plan_paths),
                sr,
                gain,
                mark=provenance.new_marker(settings, sr, 2, chunk_s=PREVIEW_MARK_CHUNK_S),
            )

        def start_stream(pitch: float) -> CoverStream:
            convert = _piece_converter(
                settings, request, model, pitch, convert_fn, sr, total.convert, clock, cancel
            )
            return CoverStream(
                sr=sr,
                frames=frames,
                plan=plan,
                converted=converted,
                convert=convert,
                preview=preview_mixer,
                on_ready=lambda n: total.playable(n, sr, stream.pieces),
                cancel=cancel,
            )

        stream: CoverStream | None = None if request.pitch_auto else start_stream(pitch)
        fed = 0

        def on_block(start: int, blocks: dict[str, np.ndarray]) -> None:
            nonlocal fed
            stream.feed(start, blocks)  # type: ignore[union-attr]
            fed = stream.separated  # type: ignore[union-attr]
            release_memory()

        try:
            stems = separate_song(
                settings,
                song_wav,
                song_sha,
                sr,
                sep_options,
                progress=total.separate,
                cancel=cancel,
                segment_s=plan.segment_s,
                on_block=on_block if stream is not None else None,
            )
            release_memory()  # separation's freed activations go back before the conversion grows
            cancel.check()
            clock.enter("convert", report=False)
            vocal, vsr = _read_mono(stems.to_convert)
            suggested = suggest_shift(f0_profile(resample(vocal, vsr, 16000), 16000), _voice_profile(model))
            del vocal
            if stream is None:  # pitch_auto: the whole vocal's range first
                pitch = float(suggested) if suggested is not None else 0.0
                stream = start_stream(pitch)
            sources = {"vocals": stems.to_convert, "instrumental": stems.instrumental}
            if request.lead_backing and request.backing != "off" and stems.backing is not None:
                sources["backing"] = stems.backing
            replay(stream, sources, start=fed, block_s=plan.segment_s, cancel=cancel)
            stream.finish()
        finally:
            if stream is not None:
                stream.close()
        quality = cover_quality(model, request, stems.to_convert, converted["vocals"], pitch)
        cancel.check()

        report = clock.enter("mix")
        final_paths = {"vocals": converted["vocals"], "instrumental": stems.instrumental}
        if "backing" in sources:
            final_paths["backing"] = converted.get("backing", sources["backing"])
        mix_stems = _mix_stems(request, pitch, final_paths)
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
