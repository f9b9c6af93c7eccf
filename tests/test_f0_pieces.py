"""Long inputs: pitch in bounded pieces equals the one-pass pitch (issue 22 item 3).

Pieces are made tiny here (``PIECE_S`` monkeypatched) so a few seconds of audio already take the
piece path; the one-pass curve is the same call with one piece.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from persona.rvc.f0 import pieces, raw_f0
from persona.testing.content import voice_like


def _song(seconds: float) -> np.ndarray:
    """Notes at changing pitches, so a piece boundary falls inside different notes."""
    notes = [voice_like(1.5, seed=i, f0=f) for i, f in enumerate([180, 260, 150, 330, 220, 300])]
    x = np.concatenate(notes)
    return np.tile(x, int(np.ceil(seconds * 16000 / len(x))))[: int(seconds * 16000)]


def _one_pass(monkeypatch: pytest.MonkeyPatch, fn):
    monkeypatch.setattr(pieces, "PIECE_S", 10_000.0)
    return fn()


def _in_small_pieces(monkeypatch: pytest.MonkeyPatch, fn, piece_s: float):
    monkeypatch.setattr(pieces, "PIECE_S", piece_s)
    return fn()


def _assert_same_curve(piecewise: np.ndarray, whole: np.ndarray) -> None:
    assert piecewise.shape == whole.shape
    np.testing.assert_array_equal(piecewise > 0, whole > 0)  # the same frames voiced
    voiced = whole > 0
    assert voiced.mean() > 0.3  # not a vacuous comparison of silences
    cents = 1200 * np.abs(np.log2(piecewise[voiced] / whole[voiced]))
    assert cents.max() < 0.1  # float noise: a 1-cent change is already inaudible


@pytest.mark.parametrize(
    ("method", "seconds", "piece_s", "context_s"),
    [("pm", 12.0, 2.0, 1.0), ("rmvpe", 12.0, 2.0, 1.0), ("harvest", 4.0, 1.0, 0.5)],
)
def test_pieces_equal_one_pass(monkeypatch, tmp_path, method, seconds, piece_s, context_s) -> None:
    from persona.testing.content import write_rmvpe

    rmvpe = write_rmvpe(tmp_path / "rmvpe.pt", seed=0, tiny=True)
    rule = dataclasses.replace(pieces.RULES[method], context_s=context_s)
    monkeypatch.setitem(pieces.RULES, method, rule)
    x = _song(seconds)
    assert len(pieces.piece_bounds(len(x), rule, piece_s)) >= 3

    def run() -> np.ndarray:
        return raw_f0(method, x, p_len=len(x) // 160, rmvpe_path=rmvpe)

    whole = _one_pass(monkeypatch, run)
    _assert_same_curve(_in_small_pieces(monkeypatch, run, piece_s), whole)


def test_fcpe_pieces_use_whole_input_statistics(monkeypatch) -> None:
    """FCPE's GroupNorm spans the whole input: pieces share its statistics and so equal one pass."""
    from persona.rvc.f0 import fcpe

    x = _song(9.0)
    x[: len(x) // 3] *= 0.05  # a quiet first third: per-piece statistics would differ
    monkeypatch.setattr(fcpe, "PIECE_RULE", pieces.PieceRule(context_s=1.0))
    assert len(pieces.piece_bounds(len(x), fcpe.PIECE_RULE, 1.5)) >= 3
    whole = _one_pass(monkeypatch, lambda: fcpe.fcpe_f0(x))
    _assert_same_curve(_in_small_pieces(monkeypatch, lambda: fcpe.fcpe_f0(x), 1.5), whole)


def test_piece_bounds_cover_every_frame_once() -> None:
    for rule in (*pieces.RULES.values(), pieces.PieceRule(context_s=0.3, hop=256)):
        n = 16000 * 37 + 123
        bounds = pieces.piece_bounds(n, rule, 5.0)
        assert len(bounds) > 3 and bounds[-1][1] == n and bounds[-1][3] == -1
        starts = [start // rule.hop + keep_from for start, _, keep_from, _ in bounds]
        ends = [start // rule.hop + keep_to for start, _, _, keep_to in bounds[:-1]]
        assert starts[0] == 0 and starts[1:] == ends  # contiguous, no frame twice
        longest = (1.5 * 5.0 + 2 * rule.context_s) * 16000 + 2 * rule.hop * rule.step
        assert max(stop - start for start, stop, *_ in bounds) <= longest  # bounded, however long n
        assert all(s % (rule.hop * rule.step) == 0 for s, *_ in bounds)
        if rule.same_length_mod_hop:
            assert all((stop - start) % rule.hop == n % rule.hop for start, stop, *_ in bounds)


def test_conversion_in_pieces_within_the_parity_noise_floor(monkeypatch, tmp_path) -> None:
    """The whole pipeline with pitch in pieces stays far inside the noise floor the parity tests use
    (the reference's own seed-to-seed RMS difference, ~1.2-1.6e-3)."""
    from persona.rvc.options import ConversionOptions
    from persona.testing.pipeline import fixture_pipeline, write_pipeline_fixtures

    pipe = fixture_pipeline(write_pipeline_fixtures(tmp_path, "tiny"), "v2_f0", "index_v2")
    monkeypatch.setitem(pieces.RULES, "rmvpe", dataclasses.replace(pieces.RULES["rmvpe"], context_s=1.0))
    x = _song(6.0)
    opts = ConversionOptions(f0_method="rmvpe", f0_unvoiced="zero", protect=0.33, index_rate=0.5)

    def run() -> np.ndarray:
        torch.manual_seed(0)
        return pipe.convert(x, opts)[0]

    run()  # the first conversion draws noise differently (lazy set-up); compare warm runs
    whole = _one_pass(monkeypatch, run)
    piecewise = _in_small_pieces(monkeypatch, run, 1.0)
    assert piecewise.shape == whole.shape
    rms = float(np.sqrt(np.mean(np.square(piecewise.astype(np.float64) - whole))))
    assert rms <= 1.2e-3 / 100
