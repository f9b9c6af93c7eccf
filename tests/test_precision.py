"""Reduced precision (persona.precision): CPU capability detection, the PERSONA_BF16 switch, and
the separator's bf16 path on tiny models (close to fp32, used only when switched on)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from persona import precision
from persona.errors import PersonaError
from persona.separation import engine, pipeline
from persona.separation.models import MODELS
from persona.separation.pipeline import SeparationOptions, separate_song, unload_models
from persona.settings import Settings
from persona.testing.separation import synthetic_song, write_model

ZEN4 = "processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu sse2 avx2 avx512f avx512bw avx512_bf16 avx512_vnni\n"
SAPPHIRE = "flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile amx_int8\n"
ICELAKE = "flags\t\t: fpu avx2 avx512f avx512bw avx512vl avx512_vnni\n"
GRAVITON3 = "processor\t: 0\nBogoMIPS\t: 2100.00\nFeatures\t: fp asimd sve bf16 i8mm\n"


@pytest.fixture(autouse=True)
def _fresh_models():
    unload_models()
    yield
    unload_models()


def test_flags_come_from_cpuinfo_text():
    assert "avx512_bf16" in precision.parse_cpu_flags(ZEN4)
    assert precision.parse_cpu_flags(GRAVITON3) == {"fp", "asimd", "sve", "bf16", "i8mm"}
    assert precision.parse_cpu_flags("") == frozenset()
    assert precision.fast_bf16(precision.parse_cpu_flags(ZEN4))
    assert precision.fast_bf16(precision.parse_cpu_flags(SAPPHIRE))
    # AVX-512 without its bf16 instructions: oneDNN would emulate bf16, slower than fp32
    assert not precision.fast_bf16(precision.parse_cpu_flags(ICELAKE))
    assert not precision.fast_bf16(precision.parse_cpu_flags(GRAVITON3))  # not measured there
    assert not precision.fast_bf16(frozenset())


def test_cpu_without_cpuinfo_has_no_fast_bf16(monkeypatch, tmp_path):
    monkeypatch.setattr(precision, "_CPUINFO", tmp_path / "missing")
    precision.cpu_flags.cache_clear()
    try:
        assert precision.cpu_flags() == frozenset() and not precision.fast_bf16()
    finally:
        precision.cpu_flags.cache_clear()


def test_the_switch_per_mode_cpu_and_part():
    zen4, icelake = precision.parse_cpu_flags(ZEN4), precision.parse_cpu_flags(ICELAKE)
    sep = precision.SEPARATION
    assert precision.use_bf16(sep, "auto", "cpu", zen4)
    assert not precision.use_bf16(sep, "auto", "cpu", icelake)  # off where bf16 is slower
    assert precision.use_bf16(sep, "on", "cpu", icelake)  # forced, for comparing
    assert not precision.use_bf16(sep, "off", "cpu", zen4)
    assert not precision.use_bf16(sep, "ON ", "cuda:0", zen4)  # GPUs keep the models' fp16 AMP
    # parts that did not pass their bar never run in bf16, whatever the setting
    for part in ("hubert", "rmvpe", "decoder"):
        assert part not in precision.BF16_PARTS
        assert not precision.use_bf16(part, "on", "cpu", zen4)
    with pytest.raises(PersonaError) as exc:
        precision.use_bf16(sep, "fast", "cpu", zen4)
    assert exc.value.code == "setting_invalid" and exc.value.params["name"] == "PERSONA_BF16"


def test_setting_comes_from_the_environment():
    assert Settings().bf16 == "auto"
    assert Settings.from_env({"PERSONA_BF16": "off"}).bf16 == "off"


@pytest.mark.parametrize("name", ["htdemucs", "bs_roformer"])
def test_separator_in_bf16_is_close_to_fp32(tmp_path, name):
    w, c = write_model(tmp_path, name)
    song = synthetic_song(2.0, seed=3)["mix"]
    fp32 = engine.load_separator(MODELS[name], w, c).run(song)
    runner = engine.load_separator(MODELS[name], w, c, bf16=True)
    assert runner.bf16
    low = runner.run(song)
    assert low.dtype == np.float32 and low.shape == fp32.shape
    diff = np.sum((fp32 - low) ** 2)
    assert diff > 0  # it did run in bf16
    assert 10 * np.log10(np.sum(fp32**2) / diff) > 30  # within 30 dB SDR of the fp32 stem


def _autocast_seen(runner: engine.ModelRunner) -> list[bool]:
    seen: list[bool] = []
    inner = runner.separator.separate

    def spy(*a, **k):
        seen.append(torch.is_autocast_enabled("cpu"))
        return inner(*a, **k)

    runner.separator.separate = spy
    return seen


@pytest.mark.parametrize(("mode", "flags", "expected"), [
    ("auto", ZEN4, True), ("auto", ICELAKE, False), ("on", ICELAKE, True), ("off", ZEN4, False),
])  # fmt: skip
def test_separation_uses_bf16_only_when_enabled(settings, tmp_path, monkeypatch, mode, flags, expected):
    monkeypatch.setattr(precision, "cpu_flags", lambda: precision.parse_cpu_flags(flags))
    settings = settings.replace(bf16=mode)
    write_model(settings.assets, "htdemucs")
    runner = pipeline._runner(settings, MODELS["htdemucs"])
    assert runner.bf16 is expected
    seen = _autocast_seen(runner)
    song = tmp_path / "song.wav"
    sf.write(str(song), synthetic_song(1.5)["mix"].T, 44100, subtype="FLOAT")
    stems = separate_song(settings, song, "sha-p", 44100, SeparationOptions("htdemucs"))
    assert seen and set(seen) == {expected}
    v, _ = sf.read(str(stems.paths["vocals"]), dtype="float32")
    i, _ = sf.read(str(stems.paths["instrumental"]), dtype="float32")
    mix, _ = sf.read(str(song), dtype="float32")
    assert np.abs(v + i - mix).max() < 1e-5  # the residual still completes the mix


def test_only_models_that_passed_their_bar_run_in_bf16(settings):
    assert MODELS["htdemucs"].bf16
    for name in ("bs_roformer", "mel_roformer_karaoke", "mel_roformer_dereverb"):
        assert not MODELS[name].bf16  # their stems moved too far from fp32's
        write_model(settings.assets, name)
        assert not pipeline._runner(settings.replace(bf16="on"), MODELS[name]).bf16


def test_bf16_and_fp32_stems_are_cached_apart(settings, tmp_path):
    write_model(settings.assets, "htdemucs")
    song = tmp_path / "song.wav"
    sf.write(str(song), synthetic_song(1.5)["mix"].T, 44100, subtype="FLOAT")
    opts = SeparationOptions("htdemucs")
    off = separate_song(settings.replace(bf16="off"), song, "sha-q", 44100, opts)
    on = separate_song(settings.replace(bf16="on"), song, "sha-q", 44100, opts)
    assert not on.cached and on.paths["vocals"] != off.paths["vocals"]
    assert separate_song(settings.replace(bf16="on"), song, "sha-q", 44100, opts).cached
