"""An honest training clock and a prompt Stop (issue 25 item 3).

The clock (persona.training.clock) is replayed on a progress trace recorded from a real training
(tests/data/training_trace.json: tiny model on this machine's CPU, written by
benchmarks/record_training_trace.py): after 20 % of the run its estimate of the time left must be
within ±30 % of what was really left, and it says nothing before it has timed the loop. Stop:
the cancel token is checked on both sides of each model call in feature extraction, so a Stop
there never waits for a model load or a second model.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from persona.errors import Cancelled
from persona.progress import CancelToken
from persona.training.clock import TrainingClock, replay

TRACE = Path(__file__).parent / "data" / "training_trace.json"


@pytest.fixture(scope="module")
def trace() -> dict:
    return json.loads(TRACE.read_text(encoding="utf-8"))


def test_the_trace_is_a_whole_training(trace):
    stages = {e["stage"] for e in trace["events"]}
    assert {"preprocess", "features", "train", "export"} <= stages
    assert any(e.get("saved_epoch") for e in trace["events"])


def test_after_a_fifth_of_the_run_the_time_left_is_within_30_percent(trace):
    events = trace["events"]
    total = events[-1]["t"]
    req = trace["request"]
    estimates = replay(events, req["epochs"], req["save_every"])
    checked = 0
    for t, guess in estimates:
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
    events = trace["events"]
    req = trace["request"]
    for (t, guess), ev in zip(replay(events, req["epochs"], req["save_every"]), events, strict=True):
        if ev["stage"] in ("preprocess", "features"):
            assert guess is None, f"an estimate at {t} s, before any step was timed"


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
