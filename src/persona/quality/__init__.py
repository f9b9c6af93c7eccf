"""Quality metrics of a conversion, on Seed-VC's public protocol (EVAL.md): no reference needed.

* ``speaker_similarity`` (SECS): Resemblyzer cosine similarity of the converted audio to the
  target voice (``speaker.py``).
* ``f0_corr``, ``f0_rmse_cents``: melody kept, by an estimator other than the converter's
  (``pitch.py``).
* ``dnsmos_ovrl`` (+ ``dnsmos_sig``, ``dnsmos_bak``): DNSMOS P.835 (``dnsmos.py``).

``evaluate`` returns one flat dict: every metric is a number or ``None``, and each ``None`` has its
reason in ``unavailable`` (silent output, no voiced frames, a missing package), and its code in
``unavailable_codes`` (``reasons.py``): never a made-up number. The engine knows nothing of jobs or Flask; training, covers and ``persona evaluate`` call it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

import numpy as np

from persona.errors import STOPS, PersonaError
from persona.quality.reasons import Reason, codes_of, from_exception

log = logging.getLogger(__name__)

SIMILARITY = "similarity"
F0 = "f0"
DNSMOS = "dnsmos"
ALL = (SIMILARITY, F0, DNSMOS)
METRIC_KEYS = ("speaker_similarity", "f0_corr", "f0_rmse_cents", "dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak")
_KEYS = {
    SIMILARITY: ("speaker_similarity",),
    F0: ("f0_corr", "f0_rmse_cents"),
    DNSMOS: ("dnsmos_ovrl", "dnsmos_sig", "dnsmos_bak"),
}


def _to16k(audio: np.ndarray, sr: int) -> np.ndarray:
    from persona.audio.resample import resample

    x = np.asarray(audio, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0) if x.shape[0] <= 8 else x.mean(axis=1)
    return resample(x, int(sr), 16000) if int(sr) != 16000 else x


def evaluate(
    converted: np.ndarray,
    converted_sr: int,
    source: np.ndarray | None = None,
    source_sr: int | None = None,
    *,
    voice: np.ndarray | None = None,
    conversion_f0: str | None = None,
    shift: float = 0.0,
    metrics: Iterable[str] = ALL,
    source_f0: np.ndarray | None = None,
) -> dict:
    """Score ``converted`` (any rate, mono) against the ``source`` it was converted from.

    ``voice``: the target voice embedding (``speaker.voice_embedding``); ``conversion_f0``: the
    pitch method that drove the conversion (the fidelity estimator avoids it); ``shift``: the pitch
    shift in semitones the conversion applied; ``source_f0``: the source contour when the caller
    already tracked it (a training converts the same slice at every save).
    """
    wanted = [m for m in ALL if m in set(metrics)]
    out: dict = {k: None for m in wanted for k in _KEYS[m]}
    unavailable: dict[str, Reason] = {}
    out16 = _to16k(converted, converted_sr)
    silent = out16.size == 0 or float(np.abs(out16).max()) <= 1e-5
    if SIMILARITY in wanted:
        if voice is None:
            unavailable["speaker_similarity"] = Reason("no_voice_reference")
        elif silent:
            unavailable["speaker_similarity"] = Reason("output_silent")
        else:
            try:
                from persona.quality import speaker

                out["speaker_similarity"] = speaker.similarity(speaker.embed(out16, 16000), voice)
                if out["speaker_similarity"] is None:
                    unavailable["speaker_similarity"] = Reason("too_little_voice")
            except STOPS:
                raise
            except Exception as exc:  # a metric never fails the work it scores
                log.warning("speaker similarity failed: %s", exc)
                unavailable["speaker_similarity"] = from_exception(exc)
    if F0 in wanted:
        from persona.quality import pitch

        estimator = pitch.pick_estimator(conversion_f0)
        out["f0_estimator"] = estimator
        if source is None and source_f0 is None:
            reason = Reason("no_input")
            unavailable.update({"f0_corr": reason, "f0_rmse_cents": reason})
        elif silent:
            unavailable.update(dict.fromkeys(_KEYS[F0], Reason("output_silent")))
        else:
            try:
                f_in = (
                    source_f0 if source_f0 is not None else pitch.track(_to16k(source, source_sr), estimator)
                )
                fid = pitch.fidelity(f_in, pitch.track(out16, estimator), shift)
                unavailable.update(fid.pop("unavailable"))
                out.update(fid)
            except STOPS:
                raise
            except Exception as exc:
                log.warning("f0 fidelity failed: %s", exc)
                unavailable.update({"f0_corr": from_exception(exc), "f0_rmse_cents": from_exception(exc)})
    if DNSMOS in wanted:
        try:
            from persona.quality.dnsmos import dnsmos

            out.update(dnsmos(out16))
        except STOPS:
            raise
        except Exception as exc:
            if not isinstance(exc, PersonaError):
                log.warning("DNSMOS failed: %s", exc)
            unavailable.update(dict.fromkeys(_KEYS[DNSMOS], from_exception(exc)))
    out["unavailable"] = {k: str(v) for k, v in unavailable.items()}
    out["unavailable_codes"] = codes_of(unavailable)
    return out


def source_contour(source: np.ndarray, source_sr: int, conversion_f0: str | None) -> np.ndarray | None:
    """The source's f0 contour for repeated ``evaluate(..., source_f0=...)`` calls; None if it fails."""
    from persona.quality import pitch

    try:
        return pitch.track(_to16k(source, source_sr), pitch.pick_estimator(conversion_f0))
    except STOPS:
        raise
    except Exception as exc:
        log.warning("f0 of the source failed: %s", exc)
        return None


def loudest_window(audio: np.ndarray, sr: int, seconds: float) -> tuple[int, int]:
    """(start, end) samples of the ``seconds``-long stretch with the most energy (the whole if shorter)."""
    n = int(seconds * sr)
    x = np.asarray(audio, dtype=np.float64)
    if x.size <= n:
        return 0, x.size
    hop = max(1, sr // 2)
    energy = np.add.reduceat(x**2, np.arange(0, x.size, hop))
    per = max(1, n // hop)
    sums = np.convolve(energy, np.ones(per), mode="valid")
    start = int(np.argmax(sums)) * hop
    return start, min(x.size, start + n)


def voice_from_metadata(metadata: dict | None) -> np.ndarray | None:
    """The target voice embedding a trained model keeps in its metadata (``voice_embedding``)."""
    v = (metadata or {}).get("voice_embedding")
    if not isinstance(v, list) or len(v) != 256:
        return None
    e = np.asarray(v, dtype=np.float32)
    n = float(np.linalg.norm(e))
    return e / n if n > 0 and np.isfinite(n) else None


def embedding_for_metadata(voice: np.ndarray | None) -> list[float] | None:
    return None if voice is None else [round(float(x), 5) for x in voice]
