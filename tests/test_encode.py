"""Every output format a person can choose (issue 25 item 8): written by the one encoder
(persona.audio.encode), read back by Persona's own decoder, tagged the same way; and the
high-register octave corrector for f0 (off by default)."""

from __future__ import annotations

import numpy as np
import pytest

from persona.audio.encode import FORMATS, BlockWriter, check_format, write_array
from persona.audio.io import load_audio, probe_audio, save_audio
from persona.errors import PersonaError
from persona.rvc.f0.octave import correct_high_octaves

SR = 44100


def tone(seconds: float = 1.0, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return np.stack([0.3 * np.sin(2 * np.pi * hz * t), 0.3 * np.sin(2 * np.pi * hz * t + 0.5)]).astype(
        np.float32
    )


def test_the_five_formats_are_the_covers_and_the_clis_choices():
    from persona.cover.request import COVER_PARAMS

    assert FORMATS == ("wav", "mp3", "flac", "ogg", "m4a")
    assert COVER_PARAMS["format"].choices == FORMATS
    with pytest.raises(PersonaError) as err:
        check_format("aiff")
    assert err.value.code == "format_invalid"


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_writes_a_file_persona_reads_back_at_its_length(tmp_path, fmt):
    path = tmp_path / f"out.{fmt}"
    save_audio(path, tone(), SR, format=fmt)
    info = probe_audio(path)
    assert info.channels == 2
    audio, sr = load_audio(path, mono=False)
    seconds = audio.shape[-1] / sr
    assert seconds == pytest.approx(1.0, abs=0.08), f"{fmt}: {seconds:.3f} s"
    assert np.sqrt(np.mean(np.square(audio))) > 0.1  # the tone, not silence
    if fmt == "ogg":
        assert sr == 48000  # Opus's own rate


@pytest.mark.parametrize("fmt", ["flac", "ogg", "m4a"])
def test_the_block_writer_streams_every_format(tmp_path, fmt):
    path = tmp_path / f"mix.{fmt}"
    data = tone(2.0)
    with BlockWriter(path, SR, 2, fmt) as w:
        for start in range(0, data.shape[1], 10000):
            w.write(data[:, start : start + 10000].T)
    assert not list(tmp_path.glob("*.pcm.wav"))  # the staging file is gone
    audio, sr = load_audio(path, mono=False)
    assert audio.shape[-1] / sr == pytest.approx(2.0, abs=0.08)


@pytest.mark.parametrize("fmt", ["flac", "ogg", "m4a", "mp3", "wav"])
def test_player_tags_go_on_every_format(tmp_path, fmt, settings):
    """The AI disclosure and title the provenance seal writes reach each format's tag block."""
    import mutagen

    from persona.provenance.credentials import CoverFacts, write_tags

    path = tmp_path / f"tagged.{fmt}"
    write_array(path, tone(0.5), SR, fmt)
    assert write_tags(path, CoverFacts(title="노래 (목소리)"))
    tags = mutagen.File(path)
    text = str(tags.tags) if tags is not None and tags.tags is not None else ""
    assert "노래 (목소리)" in text or "노래 (목소리)" in str(dict(tags.tags or {}))


def test_the_octave_corrector_doubles_only_halved_high_notes():
    high = np.full(300, 1100.0)
    high[120:150] = 550.0  # a note the tracker reported an octave low
    high[200:210] = 0.0  # a breath
    fixed = correct_high_octaves(high)
    assert np.allclose(fixed[120:150], 1100.0)
    assert np.all(fixed[200:210] == 0.0)
    low = np.full(300, 220.0)
    low[100:130] = 110.0  # a real octave leap down in a low passage stays
    assert np.array_equal(correct_high_octaves(low), low)
    assert np.array_equal(correct_high_octaves(high[:0]), high[:0])


def test_the_octave_corrector_is_off_by_default_and_reaches_the_f0_function():
    from persona.rvc.options import CONVERSION_PARAMS, ConversionOptions
    from persona.rvc.pipeline import _f0_extras

    assert ConversionOptions().f0_octave_fix is False
    assert CONVERSION_PARAMS["f0_octave_fix"].default is False
    assert "octave_fix" not in _f0_extras(ConversionOptions())
    assert _f0_extras(ConversionOptions.from_dict({"f0_octave_fix": "true"}))["octave_fix"] is True
