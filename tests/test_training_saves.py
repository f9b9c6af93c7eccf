"""Best-save choice and the plateau hint on scripted metric sequences (persona.training.saves)."""

from __future__ import annotations

from persona.training import saves


def save(epoch, sim, rmse=20.0, corr=0.97, model=True):
    metrics = {"speaker_similarity": sim, "f0_rmse_cents": rmse, "f0_corr": corr, "unavailable": {}}
    return {"epoch": epoch, "model": saves.model_file(epoch) if model else None, "metrics": metrics}


def test_the_most_similar_save_is_chosen_and_explained():
    seq = [save(5, 0.60), save(10, 0.71), save(15, 0.78), save(20, 0.76)]
    c = saves.choose(seq)
    assert c["epoch"] == 15 and c["code"] == "best_similarity"
    assert "epoch 15" in c["message"] and "0.780" in c["message"] and c["params"]["saves"] == 4


def test_a_save_that_strays_from_the_melody_is_passed_over():
    seq = [save(5, 0.70, rmse=25), save(10, 0.74, rmse=30), save(15, 0.80, rmse=140, corr=0.80)]
    c = saves.choose(seq)
    assert c["epoch"] == 10 and c["code"] == "best_guarded"
    assert c["params"]["other_epoch"] == 15 and "strays from the melody" in c["message"]


def test_unscored_saves_and_the_last_on_request():
    seq = [save(5, None), save(10, None)]
    assert saves.choose(seq)["code"] == "no_similarity" and saves.choose(seq)["epoch"] == 10
    scored = [save(5, 0.9), save(10, 0.5)]
    assert saves.choose(scored, prefer="last") == {
        "epoch": 10,
        "code": "last_requested",
        "message": "the last save was exported, as asked",
        "params": {},
    }
    assert saves.choose([]) is None


def test_only_kept_saves_can_be_chosen():
    seq = [save(5, 0.95, model=False), save(10, 0.7), save(15, 0.72)]
    assert saves.choose(seq)["epoch"] == 15


def test_plateau_after_three_saves_without_a_gain():
    rising = [save(e, s) for e, s in ((5, 0.5), (10, 0.6), (15, 0.65), (20, 0.7))]
    assert not saves.plateau(rising)
    flat = [save(e, s) for e, s in ((5, 0.5), (10, 0.72), (15, 0.71), (20, 0.72), (25, 0.7235))]
    assert saves.plateau(flat)
    assert not saves.plateau(flat[:3])  # too few saves to tell


def test_prune_keeps_the_best_and_the_last_few(tmp_path):
    seq = [save(e, s) for e, s in ((1, 0.5), (2, 0.9), (3, 0.6), (4, 0.61), (5, 0.62), (6, 0.63))]
    for s in seq:
        (tmp_path / s["model"]).parent.mkdir(exist_ok=True)
        (tmp_path / s["model"]).write_bytes(b"x")
    ledger = {**saves.empty(), "saves": seq}
    saves.prune(tmp_path, ledger, keep_last=2)
    kept = sorted(p.name for p in (tmp_path / "saves").iterdir())
    assert kept == ["e0002.pth", "e0005.pth", "e0006.pth"]
    assert [s["epoch"] for s in ledger["saves"] if s["model"]] == [2, 5, 6]
