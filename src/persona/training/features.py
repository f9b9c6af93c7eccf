"""Per-segment f0 and content features, stored as RVC's training folders.

Follows RVC's `extract_f0_print.py` / `extract_f0.py` and `extract_hubert_feature.py`: f0 from the
16 kHz segment at 100 frames/s (``p_len = n // 160``) with the chosen method through
``persona.rvc.f0.compute_f0`` and ``postprocess`` (the one owner of f0 rules, inference's too);
unvoiced frames keep 0 Hz (``f0_unvoiced="zero"``, classic RVC 20240604 and Applio, the default)
or are filled by linear interpolation (``"interpolate"``, RVC 2026); a segment with no voiced frame
is dropped. ``2b-f0nsf`` keeps f0 in Hz, ``2a_f0`` the coarse 1..255 mel bins. ``3_feature768`` holds the v2 content
features, 50 frames/s. Two silent "mute" examples are added as RVC's web UI adds them, so the
model learns silence. The voiced f0 frames give the voice profile (median, 5th, 95th percentile).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from persona.interrupt import interruptible, outside
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress
from persona.training.data import Example
from persona.training.preprocess import Segment

COARSE_DIR, F0_DIR, FEATURE_DIR, MUTE_DIR = "2a_f0", "2b-f0nsf", "3_feature768", "mute"
MUTE_SECONDS = 3.0


@dataclasses.dataclass
class FeatureResult:
    examples: list[Example]  # training examples (segments that had voice), mute ones excluded
    voiced_f0: np.ndarray  # every voiced f0 frame (Hz), for the voice profile
    feature_files: list[Path]


def segment_f0(
    f0_method: str, wav16k: np.ndarray, *, unvoiced: str, assets, device: str = "cpu"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coarse, f0 Hz, voiced frames) for one segment: ``compute_f0`` with no shift, ``p_len = n // 160``.

    ``unvoiced`` is the convention the model is trained with: ``zero`` (classic RVC, Applio) or
    ``interpolate`` (RVC 2026); the voiced frames are those the estimator itself found voiced.
    """
    from persona.rvc.f0 import compute_f0, postprocess

    p_len = len(wav16k) // 160
    _, f0 = compute_f0(
        f0_method,
        wav16k,
        p_len=p_len,
        pitch=0.0,
        filter_radius=3,
        assets=assets,
        device=device,
        unvoiced="zero",
    )
    f0 = np.asarray(f0, dtype=np.float64)
    voiced = f0[f0 > 0]
    if unvoiced == "interpolate":
        f0 = postprocess.fill_unvoiced(f0)
    return postprocess.coarse(f0.copy()).astype(np.int64), f0, voiced


def voice_profile(voiced_f0: np.ndarray) -> dict[str, float] | None:
    if voiced_f0.size == 0:
        return None
    p5, median, p95 = np.percentile(voiced_f0, [5, 50, 95])
    return {
        "median_hz": round(float(median), 2),
        "p5_hz": round(float(p5), 2),
        "p95_hz": round(float(p95), 2),
    }


def extract_features(
    segments: Sequence[Segment],
    exp_dir: Path,
    *,
    sr: int,
    f0_method: str,
    assets,
    device: str = "cpu",
    f0_unvoiced: str = "zero",
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> FeatureResult:
    """Write f0, coarse f0 and content features for each segment; returns the examples to train on."""
    import torch

    from persona.rvc.content import ContentEncoder

    for sub in (COARSE_DIR, F0_DIR, FEATURE_DIR):
        (exp_dir / sub).mkdir(parents=True, exist_ok=True)
    # Seconds on a CPU, in one call: a Stop does not wait for it (persona.interrupt.outside).
    encoder = outside(lambda: ContentEncoder.load(assets, device=device), cancel)
    examples: list[Example] = []
    voiced: list[np.ndarray] = []
    feature_files: list[Path] = []

    def content(wav16k: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            x = torch.from_numpy(wav16k).float().unsqueeze(0).to(device)
            # RVC's extract_hubert_feature layer-normalises the wave when the model's extractor asks.
            feats = encoder.extract(x, "v2", normalize=getattr(encoder, "training_normalize", False))
        return feats.squeeze(0).float().cpu().numpy()

    for k, seg in enumerate(segments):
        cancel.check()
        progress("features", k / max(1, len(segments)), msg("features_part", n=k + 1, total=len(segments)))
        wav16k, _ = sf.read(seg.wav16k_path, dtype="float32")
        with interruptible(cancel):  # a Stop ends RMVPE/CREPE/FCPE or HuBERT inside a layer (issue 25)
            coarse, f0, seg_voiced = segment_f0(
                f0_method, wav16k, unvoiced=f0_unvoiced, assets=assets, device=device
            )
            voiced.append(seg_voiced)
            if seg_voiced.size == 0:
                continue  # a segment with no pitch at all teaches nothing the mute examples do not
            cancel.check()  # between two models (an ONNX or pyworld pitch call has no hooks)
            feats = content(wav16k)
        if not np.isfinite(feats).all():
            continue
        paths = (
            exp_dir / COARSE_DIR / f"{seg.stem}.wav.npy",
            exp_dir / F0_DIR / f"{seg.stem}.wav.npy",
            exp_dir / FEATURE_DIR / f"{seg.stem}.npy",
        )
        np.save(paths[0], coarse, allow_pickle=False)
        np.save(paths[1], f0.astype(np.float32), allow_pickle=False)
        np.save(paths[2], feats.astype(np.float32), allow_pickle=False)
        examples.append(Example(seg.gt_path, paths[2], paths[0], paths[1], 0))
        feature_files.append(paths[2])
    progress("features", 1.0)
    return FeatureResult(
        examples=examples,
        voiced_f0=np.concatenate(voiced) if voiced else np.zeros(0),
        feature_files=feature_files,
    )


def mute_examples(
    exp_dir: Path,
    *,
    sr: int,
    assets,
    device: str = "cpu",
    count: int = 2,
    cancel: CancelToken = NEVER_CANCELLED,
) -> list[Example]:
    """RVC's silent examples: zero audio, its content features, f0 0 Hz (coarse 1)."""
    import torch

    from persona.rvc.content import ContentEncoder

    mute = exp_dir / MUTE_DIR
    mute.mkdir(parents=True, exist_ok=True)
    wav, feat, pitch, pitchf = (mute / n for n in ("mute.wav", "mute.npy", "mute_f0.npy", "mute_f0nsf.npy"))
    if not all(p.exists() for p in (wav, feat, pitch, pitchf)):
        sf.write(wav, np.zeros(int(MUTE_SECONDS * sr), dtype=np.float32), sr, subtype="FLOAT")
        zeros16k = torch.zeros(1, int(MUTE_SECONDS * 16000), device=device)
        encoder = outside(lambda: ContentEncoder.load(assets, device=device), cancel)
        with torch.no_grad(), interruptible(cancel):
            norm = getattr(encoder, "training_normalize", False)
            feats = encoder.extract(zeros16k, "v2", normalize=norm).squeeze(0).float().cpu().numpy()
        frames = int(MUTE_SECONDS * 100)
        np.save(feat, feats.astype(np.float32), allow_pickle=False)
        np.save(pitch, np.ones(frames, dtype=np.int64), allow_pickle=False)
        np.save(pitchf, np.zeros(frames, dtype=np.float32), allow_pickle=False)
    return [Example(wav, feat, pitch, pitchf, 0) for _ in range(count)]
