"""A queued job's place in the queue and its estimated wait (``persona.jobs.waits``)."""

from __future__ import annotations

import sqlite3

from persona.jobs.store import JobStore
from persona.jobs.waits import queue_info
from persona.settings import Settings


def _set(store: JobStore, job_id: str, **cols) -> None:
    conn = sqlite3.connect(store.path)
    sets = ", ".join(f"{k} = ?" for k in cols)
    conn.execute(f"UPDATE jobs SET {sets} WHERE id = ?", [*cols.values(), job_id])
    conn.commit()
    conn.close()


def test_places_and_waits_follow_the_running_eta_and_past_runs(tmp_path):
    store = JobStore(Settings(home=tmp_path))
    done = store.create("cover", {})
    _set(
        store,
        done["id"],
        status="succeeded",
        started_at="2026-01-01T00:00:00+00:00",
        finished_at="2026-01-01T00:00:30+00:00",
    )
    running = store.create("train", {})
    _set(store, running["id"], status="running", eta_s=100.0)
    first = store.create("cover", {})
    side = store.create("assets", {})  # downloads run beside the device queue
    second = store.create("cover", {})
    info = queue_info(store)
    assert info[first["id"]] == {"position": 1, "wait_s": 100.0}
    assert info[second["id"]] == {"position": 2, "wait_s": 130.0}
    assert side["id"] not in info


def test_a_job_waiting_for_the_device_is_in_line_with_a_place_and_a_wait(tmp_path):
    """A training a worker took while a cover holds the device says it is queued (issue 25 item 4)."""
    store = JobStore(Settings(home=tmp_path))
    cover = store.create("cover", {})
    _set(store, cover["id"], status="running", stage="convert", eta_s=40.0)
    training = store.create("train", {})
    _set(store, training["id"], status="running", stage="waiting")
    later = store.create("cover", {})
    info = queue_info(store)
    assert info[training["id"]]["position"] == 1 and info[training["id"]]["wait_s"] == 40.0
    assert info[later["id"]]["position"] == 2
    assert cover["id"] not in info


def test_the_wait_is_unknown_without_a_past_run_or_an_eta(tmp_path):
    store = JobStore(Settings(home=tmp_path))
    running = store.create("train", {})
    _set(store, running["id"], status="running")
    queued = store.create("train", {})
    assert queue_info(store)[queued["id"]] == {"position": 1, "wait_s": None}
    _set(store, running["id"], status="succeeded")
    assert queue_info(store)[queued["id"]] == {"position": 1, "wait_s": 0.0}


def test_early_etas_are_held_back_then_smoothed():
    from persona.jobs.runner import ETA_AFTER_S, _Reporter

    r = _Reporter(None, "j", "t")  # the store is not touched by the smoothing
    t0 = r.t0
    assert r._smooth(240.0, t0 + 1.0) is None  # the first seconds include warm-up: no estimate yet
    first = r._smooth(240.0, t0 + ETA_AFTER_S)
    assert first == 240.0
    # A jumpy new estimate (642 s, ten seconds later) moves the countdown (230 s) only a quarter of
    # the way: the page shows ~333 s, not 4:00 -> 10:42.
    second = r._smooth(642.0, t0 + ETA_AFTER_S + 10)
    assert 230.0 < second < 642.0 and abs(second - (230.0 + 0.25 * 412.0)) < 1e-6
