"""A cover made piece by piece against the same cover made in one pass (tiny separation model,
a deterministic stand-in conversion): the playable part grows while it is made, and the finished
file has no click, gap or level jump at the piece boundaries, the same separation quality, the
same loudness and the same true-peak ceiling."""

from __future__ import annotations

import time

import numpy as np
import pytest
import soundfile as sf

import persona.cover.pipeline as pipeline
from persona.audio.loudness import integrated_loudness, true_peak
from persona.cover import CoverRequest
from persona.cover.pieces import PiecePlan
from persona.separation.cache import file_sha256
from persona.separation.pipeline import SeparationOptions, separate_song, unload_models
from persona.testing.separation import synthetic_song, write_model

SR = 44100
SECONDS = 10.0
PIECES = PiecePlan(first_s=3.0, first_quiet_s=0.5, first_min_s=1.0, piece_s=4.0, quiet_s=1.0, segment_s=2.5)
ONE_PASS = PiecePlan(first_s=1e4, piece_s=1e4, segment_s=1e4, skip_silence=False)


def convert(settings, model, audio, sr, options, progress, cancel, **kw):
    """A stand-in voice: deterministic, at the model's 40 kHz, as convert_audio's contract."""
    from persona.audio.resample import resample

    cancel.check()
    return resample(audio * 0.8, sr, 40000), 40000


@pytest.fixture(scope="module")
def covers(tmp_path_factory):
    from persona.settings import Settings

    root = tmp_path_factory.mktemp("progressive")
    settings = Settings(home=root / "home", assets_dir=root / "assets", device="cpu")
    unload_models()
    write_model(settings.assets, "bs_roformer")
    pth = root / "singer.pth"
    pth.write_bytes(b"x")
    song = synthetic_song(SECONDS, SR)
    path = root / "song.wav"
    sf.write(str(path), song["mix"].T, SR, subtype="FLOAT")
    orig = pipeline._index_in_use
    pipeline._index_in_use = lambda model, request: False
    out = {"settings": settings, "song": song, "path": path}
    try:
        for name, plan in (("pieces", PIECES), ("one", ONE_PASS)):
            events, lengths = [], []

            def counting(*args, lengths=lengths, **kw):
                lengths.append(len(args[2]))
                return convert(*args, **kw)

            request = CoverRequest(
                song=path, model=str(pth), output=root / f"{name}.wav", separation_model="bs_roformer"
            )
            preview = root / f"{name}.pcm"
            started = time.perf_counter()
            result = pipeline.make_cover(
                settings,
                request,
                lambda stage, f, m="", events=events, **kw: events.append((stage, f, dict(kw))),
                convert_fn=counting,
                preview=preview,
                plan=plan,
            )
            wall_s = time.perf_counter() - started
            audio, _ = sf.read(str(result.path), dtype="float32", always_2d=True)
            out[name] = {
                "wall_s": wall_s,
                "result": result,
                "audio": audio.T,
                "events": events,
                "lengths": lengths,
                "preview": preview,
            }
    finally:
        pipeline._index_in_use = orig
        unload_models()
    return out


def test_the_playable_part_grows_piece_by_piece(covers):
    events = covers["pieces"]["events"]
    ready = [kw["ready_frames"] for _, _, kw in events if "ready_frames" in kw]
    assert len(set(ready)) >= 3 and ready == sorted(ready)
    frames = int(SECONDS * SR)
    last = [kw for _, _, kw in events if "ready_s" in kw][-1]
    assert ready[-1] == frames and last["ready_s"] == pytest.approx(SECONDS) and last["ready_rate"] == SR
    first = next(i for i, (_, _, kw) in enumerate(events) if kw.get("ready_frames"))
    assert any(stage == "separate" for stage, _, _ in events[first:])  # playable before separation ended
    fractions = [f for _, f, _ in events]
    assert fractions == sorted(fractions)
    pcm = np.fromfile(covers["pieces"]["preview"], "<i2").reshape(-1, 2)
    assert pcm.shape[0] == frames and np.abs(pcm).max() > 1000
    assert true_peak(pcm.T.astype(np.float32) / 32767) <= 10 ** (-1.0 / 20) * 1.01  # ceiling kept


def _short_term_db(x: np.ndarray, centre: int, half: int) -> float:
    seg = x[:, max(centre - half, 0) : centre + half]
    return 10 * np.log10(float(np.mean(seg.astype(np.float64) ** 2)) + 1e-12)


def test_boundaries_have_no_click_gap_or_level_jump(covers):
    a, b = covers["pieces"]["audio"], covers["one"]["audio"]
    assert a.shape == b.shape
    boundaries = np.cumsum(covers["pieces"]["lengths"])[:-1]
    assert len(boundaries) >= 2 and len(covers["one"]["lengths"]) == 1
    win = int(0.05 * SR)
    for x in boundaries:
        lo, hi = x - win, x + win
        step_a = float(np.abs(np.diff(a[:, lo:hi], axis=1)).max())
        step_b = float(np.abs(np.diff(b[:, lo:hi], axis=1)).max())
        assert step_a <= 1.25 * step_b + 1e-3, f"click at {x / SR:.2f} s: {step_a:.4f} vs {step_b:.4f}"
        assert abs(_short_term_db(a, x, int(0.2 * SR)) - _short_term_db(b, x, int(0.2 * SR))) < 1.0
        assert float(np.sqrt(np.mean(a[:, lo:hi] ** 2))) > 0.1 * float(
            np.sqrt(np.mean(b[:, lo:hi] ** 2))
        )  # no gap


def test_same_loudness_and_ceiling_as_one_pass(covers):
    a, b = covers["pieces"], covers["one"]
    assert abs(a["result"].loudness_lufs - b["result"].loudness_lufs) <= 0.5
    assert abs(integrated_loudness(a["audio"], SR) - integrated_loudness(b["audio"], SR)) <= 0.5
    assert a["result"].true_peak_db <= -1.0 + 1e-3


def _sdr(ref: np.ndarray, est: np.ndarray) -> float:
    ref, est = ref.astype(np.float64), est.astype(np.float64)
    return 10 * np.log10(np.sum(ref**2) / (np.sum((ref - est) ** 2) + 1e-12))


def test_separation_in_segments_is_as_good_as_one_pass(covers):
    settings, song = covers["settings"], covers["song"]
    sdr = {}  # the stems the two covers made (cache hits)
    for name, plan in (("pieces", PIECES), ("one", ONE_PASS)):
        stems = separate_song(
            settings,
            covers["path"],
            file_sha256(covers["path"]),
            SR,
            SeparationOptions("bs_roformer"),
            segment_s=plan.segment_s,
        )
        assert stems.cached
        vocals, _ = sf.read(str(stems.paths["vocals"]), dtype="float32", always_2d=True)
        sdr[name] = _sdr(song["vocals"], vocals.T)
    assert abs(sdr["pieces"] - sdr["one"]) <= 0.5, sdr


def test_stage_times_add_up_to_no_more_than_the_cover(covers):
    stages = covers["pieces"]["result"].stages
    assert set(stages) == {"decode", "separate", "convert", "mix", "encode"}
    assert all(v >= 0 for v in stages.values()) and stages["convert"] > 0
    # the pieces converted while separation ran count once, under "convert"
    assert sum(stages.values()) <= covers["pieces"]["wall_s"] + 0.5
