"""Separation through pymss with tiny random-weight models in its own formats; the stems cache."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from persona.errors import Cancelled, PersonaError
from persona.progress import CancelToken
from persona.separation import engine
from persona.separation.cache import StemsCache, cache_key
from persona.separation.models import MODELS, get_model
from persona.separation.pipeline import SeparationOptions, separate_song, unload_models
from persona.testing.separation import synthetic_song, write_model


@pytest.fixture(autouse=True)
def _fresh_models():
    unload_models()
    yield
    unload_models()


def _song(tmp_path: Path, seconds=3.0, sr=44100) -> Path:
    path = tmp_path / f"song{sr}.wav"
    sf.write(str(path), synthetic_song(seconds, sr)["mix"].T, sr, subtype="FLOAT")
    return path


def test_registry_and_manifest():
    from persona.assets import manifest

    default = get_model("bs_roformer", "vocals")
    assert default.arch == "bs_roformer" and "12.9755" in default.weights
    assert get_model("htdemucs").cpu_friendly
    for m in MODELS.values():  # every model's files are plain manifest data, nothing to import
        for name in m.assets:
            (f,) = manifest.MANIFEST[name].files
            assert manifest.MANIFEST[name].group == "separation" and f.url.startswith("https://")
            assert f.sha256 is None or len(f.sha256) == 64
    assert {a.name for a in manifest.select(None) if a.group == "separation"} == set(default.assets)
    with pytest.raises(PersonaError) as exc:
        get_model("nope")
    assert exc.value.code == "separation_model_unknown"


@pytest.mark.parametrize("sr", [44100, 48000])
def test_vocals_plus_instrumental_is_the_mix(settings, tmp_path, sr):
    write_model(settings.assets, "bs_roformer")
    song = _song(tmp_path, 2.5, sr)
    stems = separate_song(settings, song, "sha-a", sr, SeparationOptions("bs_roformer"))
    mix, _ = sf.read(str(song), always_2d=True, dtype="float32")
    v, vsr = sf.read(str(stems.paths["vocals"]), always_2d=True, dtype="float32")
    i, isr = sf.read(str(stems.paths["instrumental"]), always_2d=True, dtype="float32")
    assert vsr == isr == sr and v.shape == i.shape == mix.shape
    assert np.abs(v + i - mix).max() < 1e-5
    assert np.abs(v).max() > 1e-4  # the model did produce something
    assert stems.to_convert == stems.paths["vocals"] and not stems.cached


def test_long_input_in_segments_keeps_length(settings, tmp_path):
    w, c = write_model(settings.assets, "bs_roformer")
    runner = engine.load_separator(MODELS["bs_roformer"], w, c)
    song = _song(tmp_path, 3.3)
    stream = engine.separate_stream(
        runner, song, tmp_path / "t.wav", tmp_path / "r.wav", segment_s=1.0, overlap_s=0.25
    )
    for _ in stream:  # the files appear when the stream runs to its end
        pass
    mix, _ = sf.read(str(song))
    t, _ = sf.read(str(tmp_path / "t.wav"))
    r, _ = sf.read(str(tmp_path / "r.wav"))
    assert t.shape == mix.shape and np.abs(t + r - mix).max() < 1e-5


def test_htdemucs_and_extra_stages(settings, tmp_path):
    for name in ("htdemucs", "mel_roformer_karaoke", "mel_roformer_dereverb"):
        write_model(settings.assets, name)
    song = _song(tmp_path, 2.0)
    stems = separate_song(settings, song, "sha-b", 44100, SeparationOptions("htdemucs", True, True))
    assert set(stems.paths) == {"vocals", "instrumental", "lead", "backing", "dry"}
    v, _ = sf.read(str(stems.paths["vocals"]))
    lead, _ = sf.read(str(stems.paths["lead"]))
    back, _ = sf.read(str(stems.paths["backing"]))
    assert np.abs(lead + back - v).max() < 1e-5
    assert stems.to_convert == stems.paths["dry"] and stems.backing == stems.paths["backing"]


def test_cache_hit_skips_separation(settings, tmp_path, monkeypatch):
    write_model(settings.assets, "bs_roformer")
    song = _song(tmp_path)
    first = separate_song(settings, song, "sha-c", 44100)
    calls = []
    monkeypatch.setattr(engine, "separate_stream", lambda *a, **k: calls.append(a))
    second = separate_song(settings, song, "sha-c", 44100)
    assert second.cached and not calls and second.paths == first.paths
    assert cache_key("x", {"a": 1}) != cache_key("x", {"a": 2}) != cache_key("y", {"a": 2})


def test_cache_lru_eviction(settings, tmp_path):
    cache = StemsCache(settings, max_bytes=2500)
    for key in ["k1", "k2", "k3"]:
        d = cache.new_entry_dir()
        (d / "v.wav").write_bytes(b"x" * 1000)
        cache.put(key, d, {"vocals": "v.wav"})
        if key == "k2":
            import os
            import time

            past = time.time() - 100
            os.utime(cache.root / "k1" / "meta.json", (past, past))
            os.utime(cache.root / "k2" / "meta.json", (past + 1, past + 1))
            assert cache.get("k1") is not None  # a hit: k1 is now the most recently used
    keys = [k for k, _, _ in cache.entries()]
    assert "k2" not in keys and {"k1", "k3"} <= set(keys)
    assert cache.total_bytes() <= 2500 + 1000
    assert cache.get("k2") is None


def test_cancel_mid_separation_leaves_no_entry(settings, tmp_path):
    write_model(settings.assets, "bs_roformer")
    song = _song(tmp_path, 3.0)
    token = CancelToken()

    def progress(stage, f, message="", **kw):
        if f > 0.2:
            token.cancel()

    with pytest.raises(Cancelled):
        separate_song(settings, song, "sha-d", 44100, progress=progress, cancel=token)
    root = StemsCache(settings).root
    assert not [p for p in root.iterdir() if not p.name.startswith(".lock")]


def test_missing_weights_say_how_to_get_them(settings, tmp_path):
    with pytest.raises(PersonaError) as exc:
        separate_song(settings, _song(tmp_path), "sha-e", 44100)
    assert exc.value.code == "asset_missing"
    assert "persona assets download" in exc.value.message


def test_bad_weights_are_model_invalid(settings, tmp_path):
    w, c = write_model(settings.assets, "bs_roformer")
    w.write_bytes(b"not a checkpoint")
    with pytest.raises(PersonaError) as exc:
        engine.load_separator(MODELS["bs_roformer"], w, c)
    assert exc.value.code == "model_invalid"


def test_no_torchaudio_or_torchvision():
    code = (
        "import sys; import pymss, pymss_core; from pymss_core.modules import bs_roformer, demucs4ht;"
        "import persona.separation.engine, persona.cover.pipeline;"
        "print('torchaudio' in sys.modules or 'torchvision' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_demucs_checkpoint_with_pickle_code_is_refused_before_loading(tmp_path):
    import os

    import pytest
    import torch

    from persona.errors import PersonaError
    from persona.separation.engine import check_pickle_globals

    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    bad = tmp_path / "evil.th"
    torch.save({"state": {"w": torch.zeros(1)}, "hook": Evil()}, bad)
    with pytest.raises(PersonaError) as info:
        check_pickle_globals(bad)
    assert info.value.code == "model_invalid" and "code references" in info.value.message
    assert not marker.exists()

    from fractions import Fraction

    good = tmp_path / "ok.th"
    torch.save({"state": {"w": torch.zeros(1)}, "kwargs": {"segment": Fraction(39, 5)}}, good)
    check_pickle_globals(good)  # inert types pass
