"""The cover pipeline end to end with tiny separation models and a stand-in conversion."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import persona.cover.pipeline as pipeline
from persona.audio.loudness import integrated_loudness, true_peak
from persona.cover import CoverRequest
from persona.cover.pitch import f0_profile, suggest_shift
from persona.errors import Cancelled, PersonaError
from persona.progress import CancelToken
from persona.separation.pipeline import unload_models
from persona.testing.separation import synthetic_song, write_model


def fake_convert(settings, model, audio, sr, options, progress, cancel, **kw):
    """Stand-in for rvc.convert.convert_audio: same contract, a gain + the model's 40 kHz rate."""
    from persona.audio.resample import resample

    assert audio.ndim == 1
    progress("convert", 0.5)
    cancel.check()
    return resample(audio * 0.8, sr, 40000), 40000


@pytest.fixture
def cover_env(settings, tmp_path, monkeypatch):
    unload_models()
    write_model(settings.assets, "bs_roformer")
    pth = tmp_path / "singer.pth"
    pth.write_bytes(b"x")
    monkeypatch.setattr(pipeline, "_index_in_use", lambda s, r: False)
    yield settings, pth
    unload_models()


def _song(tmp_path: Path, seconds=3.0, sr=44100, name="song.wav") -> Path:
    path = tmp_path / name
    sf.write(str(path), synthetic_song(seconds, sr)["mix"].T, sr, subtype="PCM_16")
    return path


@pytest.mark.parametrize("sr,fmt", [(44100, "wav"), (48000, "mp3")])
def test_cover_end_to_end_with_cache(cover_env, tmp_path, sr, fmt):
    settings, pth = cover_env
    song = _song(tmp_path, 3.0, sr)
    seen = []
    req = CoverRequest(
        song=song,
        model=str(pth),
        output=tmp_path / f"out.{fmt}",
        reverb=0.3,
        conversion=__import__("persona.rvc.options").rvc.options.ConversionOptions(pitch=12),
        key_mode="song",
    )
    pitches = []

    def convert(settings, model, audio, sr, options, progress, cancel, **kw):
        pitches.append(options.pitch)
        return fake_convert(settings, model, audio, sr, options, progress, cancel)

    res = pipeline.make_cover(
        settings, req, lambda st, f, m="", **k: seen.append((st, f)), convert_fn=convert
    )
    assert pitches and set(pitches) == {12.0}  # the shift reached the converter, every piece
    y, ysr = sf.read(str(res.path), always_2d=True, dtype="float32")
    assert res.path == tmp_path / f"out.{fmt}" and ysr == sr == res.sample_rate and y.shape[1] == 2
    assert abs(y.shape[0] - 3 * sr) <= (0 if fmt == "wav" else 2304)
    assert [s for s, _ in seen if s] and {s for s, _ in seen} == {
        "decode",
        "separate",
        "convert",
        "mix",
        "encode",
    }
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions) and fractions[-1] == pytest.approx(1.0)
    assert set(res.stages) == {"decode", "separate", "convert", "mix", "encode"}
    assert res.pitch == 12 and not res.stems_cached
    assert float(np.abs(y).max()) < 1.0 and res.true_peak_db <= -1.0 + 1e-3
    if fmt == "wav":
        assert integrated_loudness(y.T, sr) == pytest.approx(-14.0, abs=0.6)
        assert true_peak(y.T) < 10 ** (-0.9 / 20)
    again = pipeline.make_cover(
        settings, CoverRequest(song=song, model=str(pth), output=tmp_path / "b.wav"), convert_fn=fake_convert
    )
    assert again.stems_cached and again.path.is_file()
    assert list((settings.cache_dir / "work").iterdir()) == []  # working files are gone


def test_cancel_mid_cover_leaves_nothing(cover_env, tmp_path):
    settings, pth = cover_env
    out = tmp_path / "out.wav"
    token = CancelToken()

    def progress(stage, f, message="", **kw):
        if stage == "convert":
            token.cancel()

    with pytest.raises(Cancelled):
        pipeline.make_cover(
            settings,
            CoverRequest(song=_song(tmp_path), model=str(pth), output=out),
            progress,
            token,
            convert_fn=fake_convert,
        )
    assert not out.exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".out")]
    assert list((settings.cache_dir / "work").iterdir()) == []


def _bad(settings, pth, song, tmp_path):
    out = tmp_path / "bad.wav"
    with pytest.raises(PersonaError) as exc:
        pipeline.make_cover(
            settings, CoverRequest(song=song, model=str(pth), output=out), convert_fn=fake_convert
        )
    assert not out.exists()
    return exc.value.code


def test_bad_songs(cover_env, tmp_path):
    settings, pth = cover_env
    silent = tmp_path / "silent.wav"
    sf.write(str(silent), np.zeros((44100 * 2, 2)), 44100)
    assert _bad(settings, pth, silent, tmp_path) == "audio_silent"
    blip = tmp_path / "blip.wav"
    sf.write(str(blip), np.random.default_rng(0).standard_normal((220, 2)) * 0.1, 44100)  # 5 ms
    assert _bad(settings, pth, blip, tmp_path) in ("audio_too_short", "audio_empty")
    text = tmp_path / "notes.mp3"
    text.write_text("this is not audio " * 100)
    assert _bad(settings, pth, text, tmp_path) == "audio_unreadable"
    assert _bad(settings, pth, tmp_path / "nope.wav", tmp_path) == "song_not_found"
    short_limit = settings.replace(max_song_seconds=2.0)
    assert _bad(short_limit, pth, _song(tmp_path, 3.0), tmp_path) == "audio_too_long"


def test_missing_separation_weights_fail_first(settings, tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "_index_in_use", lambda s, r: False)
    pth = tmp_path / "m.pth"
    pth.write_bytes(b"x")
    code = _bad(settings, pth, _song(tmp_path), tmp_path)
    assert code == "asset_missing"


def test_request_validation():
    ok = CoverRequest(song=Path("a.mp3"), model="m").validate()
    assert ok.format == "wav" and ok.key_mode == "vocals" and ok.target_lufs == -14.0
    # OGG (Opus) is a download format since the page's format choice; AIFF is not one.
    assert CoverRequest(song=Path("a.mp3"), model="m", format="OGG").validate().format == "ogg"
    for out, fmt in (("x.flac", "flac"), ("x.ogg", "ogg"), ("x.m4a", "m4a")):  # a job's output file
        assert CoverRequest(song=Path("a.mp3"), model="m", output=Path(out)).validate().format == fmt
    for bad in (
        {"key_mode": "x"},
        {"backing": "x"},
        {"format": "aiff"},
        {"reverb": 2},
        {"vocal_gain_db": 99},
        {"separation_model": "nope"},
        {"output": Path("x.aiff")},
    ):
        with pytest.raises(PersonaError):
            CoverRequest(song=Path("a.mp3"), model="m", **bad).validate()


def test_suggested_pitch_from_ranges():
    sr = 16000
    t = np.arange(3 * sr) / sr
    f = 220 * 2 ** (np.sin(2 * np.pi * 5 * t) * 0.3 / 12)  # a held note with vibrato
    vocal = np.sin(2 * np.pi * np.cumsum(f) / sr) * 0.3
    prof = f0_profile(vocal, sr)
    assert prof is not None and prof["median_hz"] == pytest.approx(220, rel=0.05)
    assert prof["p5_hz"] < prof["median_hz"] < prof["p95_hz"]
    voice = {"median_hz": 440.0, "p5_hz": 370.0, "p95_hz": 523.0}
    assert suggest_shift(prof, voice) == 12
    assert suggest_shift(prof, {"median_hz": 110.0, "p5_hz": 92.0, "p95_hz": 131.0}) == -12
    assert suggest_shift(prof, None) is None and suggest_shift(None, voice) is None
    assert f0_profile(np.zeros(sr), sr) is None


def test_pitch_auto_uses_the_voice_profile(cover_env, tmp_path, monkeypatch):
    settings, pth = cover_env
    monkeypatch.setattr(
        pipeline, "_voice_profile", lambda m: {"median_hz": 1.0e9, "p5_hz": 1e9, "p95_hz": 1e9}
    )
    pitches = []

    def convert(settings, model, audio, sr, options, progress, cancel, **kw):
        pitches.append(options.pitch)
        return fake_convert(settings, model, audio, sr, options, progress, cancel)

    res = pipeline.make_cover(
        settings,
        CoverRequest(song=_song(tmp_path), model=str(pth), pitch_auto=True, output=tmp_path / "o.wav"),
        convert_fn=convert,
    )
    # the tiny random model's "vocal" has some pitch; a huge voice range clamps the shift at +24
    assert res.suggested_pitch in (24, None)
    assert pitches and all(p == res.pitch for p in pitches)


def test_the_forms_pitch_reaches_the_converter(cover_env, tmp_path):
    """The API's form -> job params -> CoverRequest.from_params -> make_cover -> the converter."""
    from persona.server.validation import cover_form

    settings, pth = cover_env
    params = {**cover_form({"pitch": "-5", "f0_method": "pm", "index_rate": "0.4"}), "model": str(pth)}
    seen = []

    def spy(settings, model, audio, sr, options, progress, cancel, **kw):
        seen.append((options.pitch, options.f0_method, options.index_rate))
        return fake_convert(settings, model, audio, sr, options, progress, cancel)

    request = CoverRequest.from_params(params, _song(tmp_path), tmp_path / "o.wav")
    result = pipeline.make_cover(settings, request, convert_fn=spy)
    assert seen and set(seen) == {(-5.0, "pm", 0.4)} and result.pitch == -5.0


def test_auto_separation_model_follows_the_device():
    from persona.separation.models import CPU_MODEL, DEFAULT_MODEL, resolve_model_name

    assert resolve_model_name("auto", "cuda") == DEFAULT_MODEL == "bs_roformer"
    assert resolve_model_name("auto", "cuda:1") == DEFAULT_MODEL
    assert resolve_model_name("auto", "cpu") == CPU_MODEL == "htdemucs"
    assert resolve_model_name("bs_roformer", "cpu") == "bs_roformer"  # an explicit choice is kept


def test_server_cover_form_becomes_the_request_it_describes():
    from pathlib import Path

    from persona.cover.request import COVER_PARAMS, CoverRequest
    from persona.server.validation import cover_form

    form = {"pitch": "3", "separation_model": "bs_roformer", "vocal_gain": "-2", "protect": "0.4"}
    form |= {"f0_method": "PM", "dereverb": "on", "format": "mp3"}
    params = {**cover_form(form), "model": "m"}
    request = CoverRequest.from_params(params, Path("s.wav")).validate()
    assert request.separation_model == "bs_roformer" and request.vocal_gain_db == -2.0
    assert request.conversion.pitch == 3.0 and request.conversion.protect == 0.4
    assert request.conversion.f0_method == "pm" and request.dereverb is True and request.format == "mp3"
    # What the client leaves out keeps the request's defaults, which COVER_PARAMS reports.
    plain = CoverRequest.from_params({**cover_form({}), "model": "m"}, Path("s.wav"))
    assert plain.conversion.index_rate == COVER_PARAMS["index_rate"].default == 0.75
    assert plain.instrumental_gain_db == COVER_PARAMS["instrumental_gain"].default == 0.0
    assert plain.backing == COVER_PARAMS["backing"].default == "original"
    # An output path decides the format.
    assert CoverRequest.from_params(params, Path("s.wav"), Path("o/cover.wav")).format == "wav"


def test_auto_takes_the_installed_model_when_the_preferred_one_is_missing():
    from persona.separation.models import resolve_model_name

    only_roformer = {"bs_roformer"}.__contains__
    assert resolve_model_name("auto", "cpu", only_roformer) == "bs_roformer"
    assert resolve_model_name("auto", "cpu", lambda name: False) == "htdemucs"  # asks for the CPU one
