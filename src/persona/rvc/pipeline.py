"""The voice-conversion pipeline: 16 kHz vocal in, the voice model's vocal out.

Follows RVC's ``infer/vc/pipeline.py`` (``Pipeline.pipeline`` and ``Pipeline.vc``) step by step:

- the input (peak-normalised to 0.95 when louder, as RVC's ``vc_single``) is high-passed by a
  5th-order Butterworth at 48 Hz run forwards and backwards (``filtfilt``);
- inputs longer than ``x_max`` seconds are cut near every ``x_center`` seconds, at the point of
  least summed |amplitude| over 160 samples within ``x_query`` seconds of the centre;
- the whole input is reflect-padded by ``x_pad`` seconds and f0 is computed once over it, with
  unvoiced frames kept at 0 Hz or interpolated as the model was trained (``options.f0_unvoiced``
  ``auto`` reads the model's ``persona`` record; none = classic RVC's 0 Hz);
- each window (with its ``x_pad`` context) goes through the content encoder, the retrieval
  index (``index_rate``), 2x nearest-neighbour frame interpolation, ``protect`` (unvoiced frames
  keep ``protect`` of the retrieved features) and the synthesizer; the context is cut off again;
- ``rms_mix_rate`` mixes the input's loudness envelope (half-second RMS) into the output,
  ``resample_sr`` resamples, and a peak above 0.99 is scaled down to 0.99 (RVC's int16 step).

Window sizes are RVC's: fp32 (CPU) ``x_pad=1, x_query=6, x_center=38, x_max=41`` seconds,
fp16 (CUDA) ``3, 10, 60, 65``. Differs from RVC in: the result stays float32 (RVC returns int16),
the models and index are loaded once by the caller and reused, progress is reported and a cancel
token is looked at inside every model call (``persona.interrupt``), and the freed heap is handed back after every window
(``persona.runtime.release_memory``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from scipy import signal

from persona.errors import PersonaError
from persona.interrupt import interruptible
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.runtime import release_memory
from persona.rvc.index import FeatureIndex
from persona.rvc.options import ConversionOptions

SR = 16000  # content encoder and f0 rate
WINDOW = 160  # samples per f0 frame (10 ms)
MIN_SAMPLES = SR // 10  # shorter input has no meaningful frames
# RVC's high-pass: 5th-order Butterworth, 48 Hz.
_HP_B, _HP_A = signal.butter(N=5, Wn=48, btype="high", fs=SR)


@dataclasses.dataclass(frozen=True)
class WindowConfig:
    """RVC's ``x_pad``/``x_query``/``x_center``/``x_max`` (seconds) from ``configs/config.py``."""

    x_pad: int = 1
    x_query: int = 6
    x_center: int = 38
    x_max: int = 41

    @classmethod
    def for_precision(cls, is_half: bool) -> WindowConfig:
        return cls(3, 10, 60, 65) if is_half else cls(1, 6, 38, 41)

    @property
    def t_pad(self) -> int:
        return SR * self.x_pad

    @property
    def t_query(self) -> int:
        return SR * self.x_query

    @property
    def t_center(self) -> int:
        return SR * self.x_center

    @property
    def t_max(self) -> int:
        return SR * self.x_max


def highpass(audio: np.ndarray) -> np.ndarray:
    """RVC's 48 Hz zero-phase high-pass (float64 out, as scipy gives)."""
    return signal.filtfilt(_HP_B, _HP_A, audio)


def cut_points(audio: np.ndarray, cfg: WindowConfig) -> list[int]:
    """Sample positions where RVC cuts a long input: the quietest point near each window centre.

    Quietness is the sum of |x| over the 160 samples starting at each position of the
    half-window reflect-padded input; only the query spans are computed (same sums, same order).
    """
    n = audio.shape[0]
    padded = np.pad(audio, (WINDOW // 2, WINDOW // 2), mode="reflect")
    if padded.shape[0] <= cfg.t_max:
        return []
    points = []
    for t in range(cfg.t_center, n, cfg.t_center):
        lo, hi = t - cfg.t_query, min(t + cfg.t_query, n)
        acc = np.zeros(hi - lo, dtype=padded.dtype)
        for i in range(WINDOW):
            acc += np.abs(padded[lo + i : hi + i])
        points.append(lo + int(np.argmin(acc)))
    return points


BLOCK = 1 << 20  # samples per block of the whole-output steps below (4 MB of float32)


def _frame_rms(x: np.ndarray, sr: int) -> np.ndarray:
    """Half-second RMS frames as librosa.feature.rms(frame_length=sr//2*2, hop=sr//2) gives them.

    Computed a few frames at a time: the frames overlap twice, so all of them at once would hold
    two float32 copies of a whole song."""
    frame, hop = sr // 2 * 2, sr // 2
    n_frames = x.shape[0] // hop + 1
    per_block = max(1, BLOCK // frame)
    out = np.empty(n_frames, dtype=np.float32)
    for k in range(0, n_frames, per_block):
        stop = min(n_frames, k + per_block)
        lo, hi = k * hop - frame // 2, (stop - 1) * hop + frame // 2  # padded-signal span
        piece = x[max(lo, 0) : max(min(hi, x.shape[0]), 0)]
        piece = np.pad(piece, (max(0, -lo), max(0, hi - max(lo, 0) - piece.shape[0])))
        frames = np.lib.stride_tricks.sliding_window_view(piece, frame)[::hop]
        out[k:stop] = np.sqrt(np.mean(np.square(frames, dtype=np.float32), axis=-1))
    return out


def _stretch(env: np.ndarray, start: int, stop: int, n: int) -> np.ndarray:
    """Samples ``start:stop`` of ``env`` linearly stretched to ``n`` samples, as
    ``F.interpolate(mode="linear", align_corners=False)`` computes them (float64 here)."""
    scale = env.shape[0] / n
    src = np.maximum(scale * (np.arange(start, stop, dtype=np.float64) + 0.5) - 0.5, 0.0)
    i0 = np.minimum(src.astype(np.int64), env.shape[0] - 1)
    i1 = np.minimum(i0 + 1, env.shape[0] - 1)
    lam = src - i0
    return (1.0 - lam) * env[i0] + lam * env[i1]


def mix_rms(source: np.ndarray, source_sr: int, out: np.ndarray, out_sr: int, rate: float) -> np.ndarray:
    """RVC's ``change_rms``: scale ``out`` by rms_src**(1-rate) * rms_out**(rate-1).

    Block by block (the envelopes are stretched only where they are used), into a float32 copy
    of ``out``: a 20-minute song holds no full-length envelope or gain arrays."""
    env1 = _frame_rms(source, source_sr).astype(np.float64)
    env2 = _frame_rms(out, out_sr).astype(np.float64)
    result = np.array(out, dtype=np.float32)
    n = result.shape[0]
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        rms1 = _stretch(env1, start, stop, n)
        rms2 = np.maximum(_stretch(env2, start, stop, n), 1e-6)
        result[start:stop] *= (rms1 ** (1 - rate) * rms2 ** (rate - 1)).astype(np.float32)
    return result


def finish(audio: np.ndarray) -> np.ndarray:
    """RVC's last step without the int16 cast: a peak above 0.99 is scaled down to 0.99.

    One float32 copy, then in place (a whole song is large)."""
    audio = np.array(audio, dtype=np.float32)
    np.nan_to_num(audio, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
    peak = float(np.abs(audio).max()) if audio.size else 0.0
    if peak / 0.99 > 1:
        audio *= np.float32(0.99 / peak)
    return np.clip(audio, -1.0, 1.0, out=audio)


F0Fn = Callable[..., tuple[np.ndarray, np.ndarray]]


def _f0_extras(options: ConversionOptions) -> dict[str, Any]:
    """Autotune and octave-fix arguments for the f0 function, only when asked (older f0
    functions lack them)."""
    extras: dict[str, Any] = {}
    if options.autotune:
        extras.update(autotune=float(options.autotune), autotune_key=str(options.autotune_key))
    if getattr(options, "f0_octave_fix", False):
        extras["octave_fix"] = True
    return extras


class Pipeline:
    """One voice model with its content encoder, f0 function and optional index, ready to convert.

    ``voice`` is a ``persona.rvc.voice_model.VoiceModel`` (``net_g``, ``tgt_sr``, ``f0``,
    ``version``); ``content`` has ``extract(wav (1, n), version) -> (1, frames, dim)``;
    ``f0_fn`` is ``persona.rvc.f0.compute_f0`` (its ``assets``/``device`` are bound by the caller).
    """

    def __init__(
        self,
        voice: Any,
        content: Any,
        f0_fn: F0Fn | None,
        *,
        index: FeatureIndex | None = None,
        device: str = "cpu",
        is_half: bool = False,
        windows: WindowConfig | None = None,
    ) -> None:
        self.voice = voice
        self.content = content
        self.f0_fn = f0_fn
        self.index = index
        self.device = torch.device(device)
        self.is_half = is_half
        self.dtype = torch.float16 if is_half else torch.float32
        self.windows = windows or WindowConfig.for_precision(is_half)
        if index is not None:
            index.check_dim(voice.version)

    @property
    def tgt_sr(self) -> int:
        return int(self.voice.tgt_sr)

    def unvoiced_mode(self, options: ConversionOptions) -> str:
        """Zero or interpolate: the option's override, else the model's recorded convention."""
        return options.unvoiced_mode(getattr(self.voice, "f0_unvoiced", "zero"))

    def output_sr(self, options: ConversionOptions) -> int:
        rs = int(options.resample_sr)
        return rs if self.tgt_sr != rs >= 16000 else self.tgt_sr

    # -- the whole input --------------------------------------------------------------------

    def convert(
        self,
        audio16k: np.ndarray,
        options: ConversionOptions,
        progress: ProgressFn = null_progress,
        cancel: CancelToken = NEVER_CANCELLED,
    ) -> tuple[np.ndarray, int]:
        """Convert a mono 16 kHz vocal; returns (float32 audio, sample rate). A Stop of ``cancel``
        ends it inside whichever model runs (``persona.interrupt``), not only between windows."""
        with interruptible(cancel):
            return self._convert(audio16k, options, progress, cancel)

    def _convert(
        self, audio16k: np.ndarray, options: ConversionOptions, progress: ProgressFn, cancel: CancelToken
    ) -> tuple[np.ndarray, int]:
        options.validate()
        audio = np.asarray(audio16k, dtype=np.float32)
        if audio.ndim != 1:
            raise PersonaError("audio_invalid", "the pipeline takes mono audio")
        if audio.shape[0] < MIN_SAMPLES:
            raise PersonaError("audio_too_short", "the input is shorter than 0.1 s")
        peak = float(np.abs(audio).max()) / 0.95
        if peak > 1:
            audio = audio / peak
        cfg = self.windows
        t_pad, t_pad_tgt = cfg.t_pad, self.tgt_sr * cfg.x_pad
        use_f0 = bool(self.voice.f0)

        if options.formant:  # timbre first, as Applio shifts formants on the loaded input
            from persona.audio.formant import shift_formants

            audio = shift_formants(audio, SR, float(options.formant))
        audio = highpass(audio)
        points = cut_points(audio, cfg)
        audio_pad = np.pad(audio, (t_pad, t_pad), mode="reflect")
        p_len = audio_pad.shape[0] // WINDOW
        n_steps = len(points) + 1 + (1 if use_f0 else 0)
        progress("convert", 0.0, msg("convert_pitch") if use_f0 else "")
        pitch = pitchf = None
        if use_f0:
            if self.f0_fn is None:
                raise PersonaError("model_invalid", "this model needs pitch but no f0 estimator was given")
            coarse, f0 = self.f0_fn(
                options.f0_method,
                audio_pad,
                p_len=p_len,
                pitch=float(options.pitch),
                filter_radius=int(options.filter_radius),
                unvoiced=self.unvoiced_mode(options),
                **_f0_extras(options),
            )
            pitch = torch.tensor(np.asarray(coarse)[:p_len], device=self.device).unsqueeze(0).long()
            pitchf = torch.tensor(np.asarray(f0)[:p_len].astype(np.float32), device=self.device).unsqueeze(0)
            cancel.check()
            progress("convert", 1 / n_steps, msg("convert_pitch_done"))
        sid = torch.tensor([int(options.speaker_id)], device=self.device).long()

        pieces = []
        s, t = 0, None
        for step, t in enumerate([*points, None]):
            cancel.check()
            if t is None:
                seg, lo, hi = audio_pad[s:], s // WINDOW, None
            else:
                t = t // WINDOW * WINDOW
                seg, lo, hi = audio_pad[s : t + 2 * t_pad + WINDOW], s // WINDOW, (t + 2 * t_pad) // WINDOW
            out = self.window(
                seg,
                pitch[:, lo:hi] if use_f0 else None,
                pitchf[:, lo:hi] if use_f0 else None,
                sid,
                options,
            )
            pieces.append(out[t_pad_tgt:-t_pad_tgt])
            release_memory()  # the window's freed activations must not pile up into the next one
            if t is not None:
                s = t
            done = step + 1 + (1 if use_f0 else 0)
            progress("convert", done / n_steps, msg("convert_part", n=step + 1, total=len(points) + 1))

        result = np.concatenate(pieces)
        del pieces  # a long song's output is large: one copy at a time
        if options.rms_mix_rate != 1:
            result = mix_rms(audio, SR, result, self.tgt_sr, float(options.rms_mix_rate))
        out_sr = self.output_sr(options)
        if out_sr != self.tgt_sr:
            from persona.audio.resample import resample

            result = resample(result, self.tgt_sr, out_sr)
        return finish(result), out_sr

    # -- one window -------------------------------------------------------------------------

    @torch.inference_mode()
    def window(
        self,
        segment: np.ndarray,
        pitch: torch.Tensor | None,
        pitchf: torch.Tensor | None,
        sid: torch.Tensor,
        options: ConversionOptions,
    ) -> np.ndarray:
        """RVC's ``Pipeline.vc``: features -> index -> 2x -> protect -> synthesizer (one window)."""
        version = self.voice.version
        wav = torch.from_numpy(np.ascontiguousarray(segment)).to(self.dtype).view(1, -1).to(self.device)
        feats = self.content.extract(wav, version).to(self.dtype)
        has_f0 = pitch is not None and pitchf is not None
        protect = float(options.protect)
        index_rate = float(options.index_rate)
        feats0 = feats.clone() if protect < 0.5 and has_f0 else None
        if self.index is not None and index_rate != 0:
            npy = feats[0].float().cpu().numpy()
            retrieved = self.index.retrieve(npy)
            if self.is_half:
                retrieved = retrieved.astype(np.float16)
            feats = (
                torch.from_numpy(retrieved).unsqueeze(0).to(self.device) * index_rate
                + (1 - index_rate) * feats
            )
        feats = F.interpolate(feats.permute(0, 2, 1), scale_factor=2).permute(0, 2, 1)
        if feats0 is not None:
            feats0 = F.interpolate(feats0.permute(0, 2, 1), scale_factor=2).permute(0, 2, 1)
        p_len = segment.shape[0] // WINDOW
        if feats.shape[1] < p_len:
            p_len = feats.shape[1]
            if has_f0:
                pitch, pitchf = pitch[:, :p_len], pitchf[:, :p_len]
        if feats0 is not None:
            # Voiced frames keep the converted features; unvoiced ones mostly the original ones.
            keep = pitchf.clone()
            keep[pitchf > 0] = 1
            keep[pitchf < 1] = protect
            keep = keep.unsqueeze(-1)
            feats = (feats * keep + feats0 * (1 - keep)).to(feats0.dtype)
        lengths = torch.tensor([p_len], device=self.device).long()
        net_g = self.voice.net_g
        if has_f0:
            audio = net_g.infer(feats, lengths, pitch, pitchf, sid)[0]
        else:
            audio = net_g.infer(feats, lengths, sid)[0]
        return audio[0, 0].float().cpu().numpy()
