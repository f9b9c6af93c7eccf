"""Pitch (f0) estimation for RVC: one entry point, ``compute_f0``, over six methods and their hybrids.

Follows RVC's ``infer/vc/pipeline.py`` ``get_f0``: the estimator runs on the padded 16 kHz audio
(one frame per 160 samples), unvoiced gaps are kept at 0 Hz (classic RVC, Applio) or filled by
interpolation (RVC 2026), as the model was trained; the curve is shifted by ``pitch`` semitones and
quantised to RVC's 1..255 coarse scale (see ``postprocess``), then cut to ``p_len`` frames. ``filter_radius`` only affects ``harvest`` (a 3-point median when > 2), as in RVC.
``swiftf0`` (the ONNX model in the swift-f0 wheel) and ``hybrid[a+b]`` (frame-wise median, see
``hybrid``) come from Applio and its peers; ``autotune`` pulls the shifted curve to a key's notes.
Estimator models are cached per (method, device): loading RMVPE/CREPE/FCPE once per process.
Long inputs are estimated in bounded pieces whose curve equals the one-pass curve (``pieces``;
RVC runs the estimators over the whole input at once, which is how pitch extraction runs out of
memory on songs of 10-16 minutes and more).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from persona.errors import PersonaError
from persona.interrupt import outside
from persona.rvc.f0 import hybrid, pieces, postprocess
from persona.rvc.options import F0_METHODS

if TYPE_CHECKING:
    from persona.assets import AssetManager

RMVPE_THRESHOLD = 0.03
FCPE_THRESHOLD = 0.006


@lru_cache(maxsize=2)
def _rmvpe(path: str, mtime: float, device: str):  # noqa: ANN202 - cached loader
    from persona.rvc.f0.rmvpe import RMVPE

    return RMVPE.from_path(path, device)


def raw_f0(
    method: str,
    wav16k: np.ndarray,
    *,
    p_len: int,
    filter_radius: int = 3,
    assets: AssetManager | None = None,
    device: str = "cpu",
    rmvpe_path: str | Path | None = None,
    fcpe_path: str | Path | None = None,
) -> np.ndarray:
    """The estimator's own f0 curve (Hz, 0 = unvoiced) before fill/shift; may be a frame longer than ``p_len``."""
    x = np.asarray(wav16k)
    if x.ndim != 1 or not np.isfinite(x).all():
        raise PersonaError(
            "audio_invalid", "pitch estimation needs mono audio without NaN or infinite samples"
        )
    try:
        return _estimate(method, x, p_len, filter_radius, assets, device, rmvpe_path, fcpe_path)
    except (RuntimeError, ValueError) as exc:  # e.g. audio shorter than an estimator's window
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise PersonaError("f0_failed", f"pitch estimation with {method!r} failed: {first}") from exc


def _estimate(
    method: str,
    x: np.ndarray,
    p_len: int,
    filter_radius: int,
    assets: AssetManager | None,
    device: str,
    rmvpe_path: str | Path | None,
    fcpe_path: str | Path | None,
) -> np.ndarray:
    if method == "pm":
        from persona.rvc.f0.classic import pm_frames, pm_pad

        f0 = pm_pad(pieces.in_pieces(pm_frames, x, pieces.RULES["pm"]), p_len)
    elif method == "harvest":
        from persona.rvc.f0.classic import harvest_f0

        # WORLD takes ~1/3 s per second of audio in one call: a Stop does not wait for it.
        f0 = pieces.in_pieces(
            lambda seg: outside(lambda: harvest_f0(seg, filter_radius), None), x, pieces.RULES["harvest"]
        )
    elif method == "crepe":
        from persona.rvc.f0.crepe import crepe_f0

        f0 = crepe_f0(x, device=device)
    elif method == "rmvpe":
        path = Path(rmvpe_path) if rmvpe_path is not None else _asset(assets, "rmvpe.pt")
        if not path.is_file():
            raise PersonaError("asset_missing", f"RMVPE weights not found at {path}")
        # 360 MB read and built in one call: a Stop does not wait for it (the load still caches)
        rmvpe = outside(lambda: _rmvpe(str(path), path.stat().st_mtime, str(device)), None)
        f0 = pieces.in_pieces(
            lambda seg: rmvpe.infer_from_audio(seg, thred=RMVPE_THRESHOLD), x, pieces.RULES["rmvpe"]
        )
    elif method == "fcpe":
        from persona.rvc.f0.fcpe import fcpe_f0

        if fcpe_path is None:
            fcpe_path = _fcpe_weights(assets)
        f0 = fcpe_f0(x, device=device, path=fcpe_path, threshold=FCPE_THRESHOLD)
    elif method == "swiftf0":
        from persona.rvc.f0.swift import swift_f0

        f0 = swift_f0(x, p_len)
    elif (parts := hybrid.parse(method, F0_METHODS)) is not None:
        curves = [
            postprocess.align(
                _estimate(m, x, p_len, filter_radius, assets, device, rmvpe_path, fcpe_path), p_len
            )
            for m in parts
        ]
        f0 = hybrid.combine(curves)
    else:
        raise PersonaError(
            "f0_method_invalid", f"unknown pitch method {method!r}; choose one of {', '.join(F0_METHODS)}"
        )
    return np.asarray(f0)


def _fcpe_weights(assets: AssetManager | None) -> Path:
    """torchfcpe's bundled weights (what RVC runs), else the ``fcpe.pt`` asset (same format)."""
    from persona.rvc.f0.fcpe import bundled_path

    try:
        return bundled_path()
    except PersonaError:
        if assets is None:
            raise
        return _asset(assets, "fcpe.pt")


def _asset(assets: AssetManager | None, name: str) -> Path:
    if assets is None:
        raise PersonaError("asset_missing", f"no assets folder given to find {name}")
    return Path(assets.path(name))


def compute_f0(
    method: str,
    wav16k: np.ndarray,
    *,
    p_len: int,
    pitch: float,
    filter_radius: int,
    assets: AssetManager | None = None,
    device: str = "cpu",
    rmvpe_path: str | Path | None = None,
    fcpe_path: str | Path | None = None,
    unvoiced: str = "zero",
    autotune: float = 0.0,
    autotune_key: str = "chromatic",
    octave_fix: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(coarse int32 1..255, f0 Hz) for ``p_len`` frames, as RVC's ``get_f0``.

    ``rmvpe_path`` / ``fcpe_path`` override the asset lookup (tests, tools). FCPE uses the weights
    bundled in the torchfcpe wheel, as RVC does, and the ``fcpe.pt`` asset only without that wheel.
    ``unvoiced`` is the model's f0 convention (``persona.rvc.record``): ``"zero"`` keeps 0 Hz in
    unvoiced frames as classic RVC and Applio do (``protect`` then acts on them), ``"interpolate"``
    fills them as RVC 2026 does. ``octave_fix``: double high notes the tracker halved
    (``octave.py``; off by default, so the curve is RVC's).
    """
    if unvoiced not in ("zero", "interpolate"):
        raise PersonaError("option_invalid", f"f0_unvoiced must be zero or interpolate, got {unvoiced!r}")
    if method not in F0_METHODS and hybrid.parse(method, F0_METHODS) is None:
        raise PersonaError(
            "f0_method_invalid", f"unknown pitch method {method!r}; choose one of {', '.join(F0_METHODS)}"
        )
    if method == "fcpe" and fcpe_path is None:
        fcpe_path = _fcpe_weights(assets)
    f0 = raw_f0(
        method, wav16k, p_len=p_len, filter_radius=filter_radius, assets=assets, device=device,
        rmvpe_path=rmvpe_path, fcpe_path=fcpe_path,
    )  # fmt: skip
    # RVC fills, shifts and quantises the whole curve and only then keeps p_len frames.
    f0 = np.array(f0, copy=True)
    if octave_fix:  # on the tracked curve, before anything fills or shifts it
        from persona.rvc.f0.octave import correct_high_octaves

        f0 = correct_high_octaves(f0).astype(f0.dtype)
    if unvoiced == "interpolate":
        f0 = postprocess.fill_unvoiced(f0)
    f0 = postprocess.shift(f0, pitch)
    if autotune > 0:  # after the shift: the key is the key of the output
        from persona.rvc.f0.autotune import autotune as tune

        f0 = tune(f0, autotune, autotune_key)
    return postprocess.align(postprocess.coarse(f0.copy()), p_len), postprocess.align(f0, p_len)
