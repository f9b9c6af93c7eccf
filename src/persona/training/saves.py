"""The saves of one training: a model, a preview and metrics per save, the best one chosen and why.

Torch-free, so the web process reads it. Layout in the experiment folder
(``<home>/training/<name>/``): ``saves/e0005.pth`` (the generator at that save, in RVC's small
model format: what would be exported), ``previews/e0005.wav`` (the held-out slice converted by it)
and ``saves.json``, the ledger: ``{"epochs": [mean losses per epoch], "saves": [{epoch, model,
preview, metrics, losses}], "previews": {enabled, reason}, "choice": {...}, "plateau": bool}``.

Choice (``choose``): the kept save with the highest speaker similarity among those whose melody is
about as faithful as the most faithful save's (F0 RMSE at most ``F0_GUARD_CENTS`` above the lowest,
F0 correlation at most ``F0_GUARD_CORR`` below the highest); a save whose F0 fidelity could not be
measured is not held back by the guard. ``plateau``: the best similarity of the last
``PATIENCE`` saves is no better (by ``MIN_GAIN``) than the best before them. Model files are
kept for the best save and the last ``KEEP_LAST`` (``prune``); previews are all kept (small).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from persona.errors import PersonaError
from persona.fsutil import atomic_write_text

LEDGER = "saves.json"
PREVIEW_SOURCE = "preview_source.wav"  # the held-out slice itself (preprocess writes it)
SAVES_DIR = "saves"
PREVIEWS_DIR = "previews"
KEEP_LAST = 3
PATIENCE = 3
MIN_GAIN = 0.005
F0_GUARD_CENTS = 50.0
F0_GUARD_CORR = 0.05


def model_file(epoch: int) -> str:
    return f"{SAVES_DIR}/e{int(epoch):04d}.pth"


def preview_file(epoch: int) -> str:
    return f"{PREVIEWS_DIR}/e{int(epoch):04d}.wav"


def empty() -> dict[str, Any]:
    return {"epochs": [], "saves": [], "previews": {"enabled": False, "reason": None}, "choice": None}


def read(exp: Path) -> dict[str, Any]:
    path = Path(exp) / LEDGER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return empty()
    except (OSError, ValueError):
        return empty()
    return {**empty(), **data} if isinstance(data, dict) else empty()


def write(exp: Path, ledger: dict[str, Any]) -> None:
    atomic_write_text(Path(exp) / LEDGER, json.dumps(ledger, ensure_ascii=False, indent=1))


def _sim(s: dict) -> float | None:
    return (s.get("metrics") or {}).get("speaker_similarity")


def _num(s: dict, key: str) -> float | None:
    return (s.get("metrics") or {}).get(key)


def choose(saves: list[dict[str, Any]], prefer: str = "best") -> dict[str, Any] | None:
    """``{"epoch", "code", "message", "params"}``: which kept save to export, and why."""
    kept = [s for s in saves if s.get("model")]
    if not kept:
        return None
    last = kept[-1]
    if prefer == "last":
        return _choice(last["epoch"], "last_requested", "the last save was exported, as asked", {})
    scored = [s for s in kept if _sim(s) is not None]
    if not scored:
        return _choice(
            last["epoch"],
            "no_similarity",
            "no save could be scored for speaker similarity, so the last one was exported",
            {},
        )
    rmses = [r for r in (_num(s, "f0_rmse_cents") for s in scored) if r is not None]
    corrs = [c for c in (_num(s, "f0_corr") for s in scored) if c is not None]
    low_rmse, high_corr = (min(rmses) if rmses else None), (max(corrs) if corrs else None)

    def faithful(s: dict) -> bool:
        r, c = _num(s, "f0_rmse_cents"), _num(s, "f0_corr")
        return (r is None or low_rmse is None or r <= low_rmse + F0_GUARD_CENTS) and (
            c is None or high_corr is None or c >= high_corr - F0_GUARD_CORR
        )

    passing = [s for s in scored if faithful(s)] or scored
    best = max(passing, key=lambda s: (_sim(s), s["epoch"]))
    top = max(scored, key=lambda s: (_sim(s), s["epoch"]))
    params = {
        "epoch": best["epoch"],
        "similarity": _sim(best),
        "saves": len(scored),
        "f0_rmse_cents": _num(best, "f0_rmse_cents"),
        "f0_corr": _num(best, "f0_corr"),
    }
    melody = f"; F0 RMSE {params['f0_rmse_cents']:.0f} cents" if params["f0_rmse_cents"] is not None else ""
    if top is not best:
        params.update(
            other_epoch=top["epoch"], other_similarity=_sim(top), other_rmse=_num(top, "f0_rmse_cents")
        )
        message = (
            f"epoch {best['epoch']} sounds most like you among the saves that keep the melody "
            f"(speaker similarity {_sim(best):.3f}){melody}; epoch {top['epoch']} scored higher "
            f"({_sim(top):.3f}) but strays from the melody"
        )
        return _choice(best["epoch"], "best_guarded", message, params)
    message = (
        f"epoch {best['epoch']} sounds most like you: speaker similarity {_sim(best):.3f}, "
        f"the highest of {len(scored)} saves{melody}"
    )
    return _choice(best["epoch"], "best_similarity", message, params)


def user_choice(epoch: int) -> dict[str, Any]:
    """The choice record when a person picked the save (``POST .../saves/<epoch>/export``)."""
    return _choice(epoch, "user_choice", f"epoch {epoch} was exported at your request", {"epoch": epoch})


def _choice(epoch: int, code: str, message: str, params: dict) -> dict[str, Any]:
    return {"epoch": int(epoch), "code": code, "message": message, "params": params}


def plateau(saves: list[dict[str, Any]], patience: int = PATIENCE, min_gain: float = MIN_GAIN) -> bool:
    """True when the last ``patience`` saves did not beat the best similarity before them."""
    sims = [v for v in (_sim(s) for s in saves) if v is not None]
    if len(sims) < patience + 1:
        return False
    return max(sims[-patience:]) < max(sims[:-patience]) + min_gain


def prune(exp: Path, ledger: dict[str, Any], keep_last: int = KEEP_LAST) -> None:
    """Delete the model files of saves that are neither the best nor among the last ``keep_last``."""
    saves = ledger["saves"]
    best = choose(saves)
    keep = {s["epoch"] for s in saves[-keep_last:]} | ({best["epoch"]} if best else set())
    for s in saves:
        if s.get("model") and s["epoch"] not in keep:
            (Path(exp) / s["model"]).unlink(missing_ok=True)
            s["model"] = None


def kept_model(exp: Path, ledger: dict[str, Any], epoch: int) -> Path:
    """The model file of a kept save; PersonaError ``save_not_found`` (404) otherwise."""
    for s in ledger["saves"]:
        if s["epoch"] == epoch and s.get("model") and (Path(exp) / s["model"]).is_file():
            return Path(exp) / s["model"]
    kept = [s["epoch"] for s in ledger["saves"] if s.get("model")]
    raise PersonaError(
        "save_not_found",
        f"no kept save at epoch {epoch}; kept saves: {', '.join(map(str, kept)) or 'none'}",
        status=404,
    )


def summary(ledger: dict[str, Any]) -> dict[str, Any]:
    """What a job result and the page show: each save's epoch, metrics and whether its model is kept."""
    return {
        "saves": [
            {
                "epoch": s["epoch"],
                "metrics": s.get("metrics") or {},
                "preview": bool(s.get("preview")),
                "kept": bool(s.get("model")),
            }
            for s in ledger["saves"]
        ],
        "previews": ledger.get("previews"),
        "choice": ledger.get("choice"),
        "plateau": plateau(ledger["saves"]),
        "exported_epoch": ledger.get("exported_epoch"),
    }
