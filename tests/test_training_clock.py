"""An honest training clock and a prompt Stop (issue 25 item 3).

The clock (persona.training.clock) is replayed on progress traces recorded from real trainings
(tests/data/training_traces/*.json: tiny models on this machine's CPU, previews on and off,
different epochs and save intervals, written by benchmarks/record_training_trace.py): at 20 % of
the run (by time) its estimate of the time left must be within ±30 % of what was really left and
its range must hold it; from there on it stays within ±30 %; it says nothing before it has timed
the loop. Stop: the cancel token is checked on both sides of each model call in feature
extraction, so a Stop there never waits for a model load or a second model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona.errors import Cancelled
from persona.progress import CancelToken
from persona.training.clock import CONVERT_PAD_S, SYNTH_PER_EVAL, TrainingClock, estimate_at, replay

TRACES = sorted((Path(__file__).parent / "data" / "training_traces").glob("*.json"))


@pytest.fixture(scope="module", params=TRACES, ids=[p.stem for p in TRACES])
def trace(request) -> dict:
    return json.loads(request.param.read_text(encoding="utf-8"))


def test_the_traces_are_whole_trainings_with_previews_on_and_off(trace):
    stages = {e["stage"] for e in trace["events"]}
    assert {"preprocess", "features", "train", "export", "done"} <= stages
    assert any(e.get("saved_epoch") for e in trace["events"])
    assert {json.loads(p.read_text())["request"]["previews"] for p in TRACES} == {True, False}


def test_at_a_fifth_of_the_run_the_estimate_is_within_30_percent_and_its_range_holds_the_truth(trace):
    events, req = trace["events"], trace["request"]
    total = events[-1]["t"]
    at = 0.2 * total
    guess = estimate_at(events, req["epochs"], req["save_every"], at)
    assert guess is not None, f"계산 중 at {at:.1f} s of {total:.1f} s"
    low, mid, high = guess
    truth = total - at
    assert abs(mid - truth) <= 0.3 * truth, f"at {at:.1f} s: {mid:.1f} s left, truly {truth:.1f} s"
    assert low <= truth <= high, f"at {at:.1f} s: {low:.1f}-{high:.1f} s left, truly {truth:.1f} s"


def test_from_a_fifth_of_the_run_on_the_estimate_stays_within_30_percent(trace):
    events, req = trace["events"], trace["request"]
    total = events[-1]["t"]
    checked = 0
    for t, guess in replay(events, req["epochs"], req["save_every"]):
        if t < 0.2 * total or t > 0.9 * total:
            continue
        assert guess is not None, f"no estimate at {t:.1f} s of {total:.1f} s"
        low, mid, high = guess
        truth = total - t
        assert abs(mid - truth) <= 0.3 * truth + 1.0, f"at {t:.1f} s: {mid:.1f} s left, truly {truth:.1f} s"
        assert low <= mid <= high
        checked += 1
    assert checked >= 5


def test_no_estimate_before_the_loop_has_timed_steps(trace):
    events, req = trace["events"], trace["request"]
    for (t, guess), ev in zip(replay(events, req["epochs"], req["save_every"]), events, strict=True):
        if ev["stage"] in ("preprocess", "features"):
            assert guess is None, f"an estimate at {t} s, before any step was timed"


def _steps(
    clock: TrainingClock, epochs: int = 1, steps: int = 4, step_s: float = 1.0, t: float = 10.0
) -> float:
    for epoch in range(1, epochs + 1):
        for step in range(1, steps + 1):
            clock.observe("train", {"epoch": epoch, "epochs": 10, "step": step, "steps": steps}, t)
            t += step_s
    return t - step_s


def test_a_save_is_priced_from_the_facts_measured_before_it():
    """Told what a preview's scoring costs (and the voice embedding only the first save does),
    the clock counts it for every save to come; told previews are off, a save is a checkpoint."""
    features = [
        ("preprocess", {}, 0.0),
        ("preprocess", {}, 2.0),
        ("features", {}, 3.0),
        ("features", {}, 6.0),
    ]
    clocks = {}
    for name, facts in {
        "told": {
            **{"previews": True, "voice_seconds": 30.0, "slice_seconds": 9.0, "scoring_s": 20.0},
            **{"voice_embed_s": 10.0, "eval_s": 0.2, "eval_audio_s": 1.0},
        },
        "off": {"previews": False, "voice_seconds": 30.0},
        "untold": {},
    }.items():
        clock = TrainingClock(epochs=10, save_every=5, clock=lambda: 0.0)
        for stage, m, t in features:
            clock.observe(stage, m, t)
        clock.observe("train", facts, 7.0)
        clocks[name] = clock.estimate(_steps(clock))
    steps_left = 36.0  # 40 steps of 1 s, 4 timed
    told, off = clocks["told"], clocks["off"]
    # two saves of 20 s scoring + the slice's conversion (4 s of features for 30 s of voice and
    # the eval's 0.2 s per second of synthesis, over the 9 s slice and its padding), and 10 s once
    convert = (4.0 / 30.0 + SYNTH_PER_EVAL * 0.2) * (9.0 + CONVERT_PAD_S)
    assert told[1] - off[1] == pytest.approx(2 * (20.0 + convert) + 10.0, rel=0.05)
    assert told[0] <= told[1] <= told[2] and off[1] >= steps_left
    assert off[1] < steps_left * 1.5  # a checkpoint is a small part of an epoch
    assert clocks["untold"][0] <= clocks["untold"][1] <= clocks["untold"][2]


def test_the_estimate_goes_to_the_page_as_a_range():
    times = iter([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    clock = TrainingClock(epochs=2, save_every=1, clock=lambda: next(times))
    seen = []
    report = clock.wrap(lambda stage, f, message="", **m: seen.append(m))
    for step in range(1, 6):
        report("train", 0.1 * step, epoch=1, epochs=2, step=step, steps=10, eta_s=999.0)
    assert seen[0]["eta_s"] is None and seen[0]["eta_low_s"] is None  # "계산 중"
    last = seen[-1]
    assert last["eta_low_s"] <= last["eta_s"] <= last["eta_high_s"]
    assert last["eta_s"] != 999.0  # the loop's steps-only guess is replaced


def test_stop_during_feature_extraction_never_waits_for_a_model(monkeypatch, tmp_path):
    """A Stop pressed while the content encoder loads acts before any segment's pitch is read;
    one pressed while the pitch is read acts before the content encoder runs."""
    from persona.training import features

    calls = []

    class Encoder:
        @classmethod
        def load(cls, assets, device="cpu"):
            calls.append("load")
            if "stop-at-load" in calls:
                token.cancel()
            return cls()

        def extract(self, *a, **k):
            calls.append("content")
            raise AssertionError("the content encoder ran after Stop")

    def f0(*a, **k):
        calls.append("f0")
        token.cancel()
        import numpy as np

        return np.ones(10, dtype=np.int64), np.ones(10), np.ones(10)

    monkeypatch.setattr("persona.rvc.content.ContentEncoder", Encoder)
    monkeypatch.setattr(features, "segment_f0", f0)
    import numpy as np
    import soundfile as sf

    wav = tmp_path / "0_0.wav"
    sf.write(wav, np.zeros(16000, dtype=np.float32), 16000)
    seg = features.Segment("0_0", wav, wav, 1.0)

    token = CancelToken()
    calls.append("stop-at-load")
    with pytest.raises(Cancelled):
        features.extract_features([seg], tmp_path / "a", sr=40000, f0_method="pm", assets=None, cancel=token)
    assert "f0" not in calls

    calls.clear()
    token = CancelToken()
    with pytest.raises(Cancelled):
        features.extract_features([seg], tmp_path / "b", sr=40000, f0_method="pm", assets=None, cancel=token)
    assert calls == ["load", "f0"]
