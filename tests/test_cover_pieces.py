"""Cutting a vocal into conversion pieces as it arrives (``persona.cover.pieces``) and the piece
stream that converts them and fills the playable part (``persona.cover.stream``)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from persona.audio.mix import MixStem
from persona.audio.preview import PreviewMixer
from persona.cover.pieces import EDGE_S, FADE_S, PiecePlan, VocalPlanner
from persona.cover.stream import CoverStream, replay

SR = 1000


def _vocal(seconds=200, seed=0):
    x = (np.random.default_rng(seed).standard_normal(seconds * SR) * 0.1).astype(np.float32)
    x[: 12 * SR] = 0  # intro
    x[50 * SR : 58 * SR] *= 1e-4  # an instrumental break with separator leftovers
    x[100 * SR : 102 * SR] = 0  # a rest: shorter than MIN_SILENT_S, cheaper to convert than to cut out
    x[150 * SR :] = 0  # outro
    return x


def _plan(x, spans, plan=PiecePlan()):
    planner = VocalPlanner(SR, plan)
    out, i = [], 0
    for n in spans:
        planner.push(x[i : i + n])
        i += n
        out += [p for p, _ in planner.pieces(final=i >= len(x))]
    return out


@pytest.mark.parametrize("span", [21_400, 7_000, 3_333, 50_000])
def test_cuts_do_not_depend_on_how_the_vocal_arrives(span):
    x = _vocal()
    whole = _plan(x, [len(x)])
    parts = _plan(x, [span] * (len(x) // span + 1))
    # Sung pieces are identical; silent stretches may come in more pieces (all zeros).
    assert [p for p in parts if not p.silent] == [p for p in whole if not p.silent]
    assert parts[0].start == 0 and parts[-1].end == len(x)
    assert all(a.end == b.start for a, b in zip(parts, parts[1:], strict=False))


def test_silent_spans_are_skipped_with_edges_and_the_first_piece_is_short():
    pieces = _plan(_vocal(), [len(_vocal())])
    silent = [(p.start / SR, p.end / SR) for p in pieces if p.silent]
    assert silent[0] == (0.0, 12 - EDGE_S) and silent[2] == (150 + EDGE_S, 200.0)
    # the break: from where the piece before it ended (a silent run or its quietest point, in the
    # break either way) to just before the voice returns
    assert 50.0 <= silent[1][0] <= 51.0 and silent[1][1] == 58 - EDGE_S and len(silent) == 3
    sung = [p for p in pieces if not p.silent]
    assert 21.0 <= sung[0].end / SR <= 22.0  # the first ends ~22 s into the song, whatever the intro
    assert all((p.end - p.start) / SR <= 30.0 for p in sung)
    assert sung[0].fade_in and not sung[0].fade_out
    assert any(p.fade_out and p.end / SR == 150 + EDGE_S for p in sung)
    # the 2 s rest at 100 s is converted inside a piece, not cut out
    assert any(p.start / SR < 100 and p.end / SR > 102 for p in sung)


def test_without_skipping_everything_is_converted():
    pieces = _plan(_vocal(), [len(_vocal())], PiecePlan(skip_silence=False))
    assert not any(p.silent for p in pieces)


def test_stream_converts_only_sung_pieces_and_fills_the_playable_part(tmp_path):
    sr = 8000
    n = 30 * sr
    t = np.arange(n) / sr
    vocal = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    vocal[8 * sr : 14 * sr] = 0.0  # a break
    band = (0.1 * np.sin(2 * np.pi * 110 * t)).astype(np.float32)
    paths = {}
    for name, mono in (("vocals", vocal), ("instrumental", band)):
        paths[name] = tmp_path / f"{name}.wav"
        sf.write(str(paths[name]), np.stack([mono, mono]).T, sr, subtype="FLOAT")
    calls, ready = [], []

    def convert(stem, piece, audio):
        assert not piece.silent
        calls.append((piece.start / sr, piece.end / sr))
        return audio * 0.5  # the stand-in "voice"

    plan = PiecePlan(first_s=5.0, first_min_s=1.0, piece_s=8.0, quiet_s=1.0)
    preview = PreviewMixer(
        tmp_path / "p.pcm",
        [MixStem(paths["vocals"], 0, (), "vocals"), MixStem(paths["instrumental"], 0, (), "instrumental")],
        sr,
        1.0,
    )
    stream = CoverStream(
        sr=sr,
        frames=n,
        plan=plan,
        converted={"vocals": tmp_path / "conv.wav"},
        convert=convert,
        preview=preview,
        on_ready=ready.append,
    )
    replay(stream, paths, block_s=3.0)
    stream.finish()
    assert all(not (a < 8.5 and b > 13.5) for a, b in calls)  # the break was never converted
    out, _ = sf.read(str(tmp_path / "conv.wav"), dtype="float32")
    assert len(out) == n
    assert np.abs(out[int((8 + EDGE_S) * sr) : int((14 - EDGE_S) * sr)]).max() == 0.0
    sung = slice(int(2 * sr), int(7.5 * sr))
    assert np.allclose(out[sung], vocal[sung] * 0.5)
    fade = out[int((8 + EDGE_S - FADE_S) * sr) : int((8 + EDGE_S) * sr)]
    assert np.abs(np.diff(fade)).max() < 0.05  # faded, no click
    assert ready == sorted(ready) and ready[-1] == n  # the playable part grew to the whole song
    pcm = np.fromfile(tmp_path / "p.pcm", "<i2").reshape(-1, 2)
    assert pcm.shape[0] == n


def test_a_failing_piece_fails_the_stream_with_its_reason(tmp_path):
    from persona.errors import PersonaError

    sr, n = 8000, 20 * 8000
    vocal = (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / sr)).astype(np.float32)
    path = tmp_path / "v.wav"
    sf.write(str(path), vocal, sr, subtype="FLOAT")
    done = []

    def convert(stem, piece, audio):
        if done:
            raise PersonaError("f0_failed", "pitch estimation failed")
        done.append(piece)
        return audio

    stream = CoverStream(
        sr=sr,
        frames=n,
        plan=PiecePlan(first_s=5.0, first_min_s=1.0, piece_s=5.0, quiet_s=1.0),
        converted={"vocals": tmp_path / "conv.wav"},
        convert=convert,
    )
    with pytest.raises(PersonaError) as exc:
        replay(stream, {"vocals": path}, block_s=3.0)
        stream.finish()
    stream.close()
    assert exc.value.code == "f0_failed" and len(done) == 1
