"""A stand-in training save for fixture jobs (torch-free): ledger entry, preview tone, rising metrics."""

from __future__ import annotations


def write_fixture_save(settings, name: str, epoch: int, *, sr: int = 16000) -> dict:
    """Stand-in for one training save (fixture jobs): a ledger entry, a preview tone, rising metrics.

    Lets the page's chart and players be exercised without the engines; the numbers are made up and
    say so (``fixture: True``). Returns the progress fields a real save reports.
    """
    import numpy as np
    import soundfile as sf

    from persona.training import saves

    exp = settings.training_dir / name
    (exp / saves.PREVIEWS_DIR).mkdir(parents=True, exist_ok=True)
    ledger = saves.read(exp) if epoch > 1 else saves.empty()
    ledger["previews"] = {"enabled": True, "reason": None, "seconds": 1.0}
    ledger["epochs"].append(
        {"epoch": epoch, "loss_mel": round(40.0 / epoch, 3), "eval_mel": round(42.0 / epoch, 3)}
    )
    t = np.arange(sr) / sr
    tone = (0.3 * np.sin(2 * np.pi * (180 + 40 * epoch) * t)).astype(np.float32)
    sf.write(exp / saves.preview_file(epoch), tone, sr, subtype="PCM_16")
    if epoch == 1:
        sf.write(exp / saves.PREVIEW_SOURCE, tone, sr, subtype="PCM_16")
    metrics = {
        "speaker_similarity": round(min(0.9, 0.5 + 0.1 * epoch), 4),
        "f0_corr": 0.95,
        "f0_rmse_cents": 30.0,
        "unavailable": {},
        "fixture": True,
    }
    ledger["saves"].append(
        {"epoch": epoch, "model": None, "preview": saves.preview_file(epoch), "metrics": metrics}
    )
    ledger["choice"] = saves.choose([{**s, "model": s["preview"]} for s in ledger["saves"]])
    saves.write(exp, ledger)
    return {
        "saved_epoch": epoch,
        "preview_ready": True,
        "best_epoch": ledger["choice"]["epoch"],
        **{k: v for k, v in metrics.items() if isinstance(v, float)},
    }
