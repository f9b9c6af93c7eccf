"""Synthetic test signals and files used across Persona's tests and benchmarks.

Nothing here is realistic enough to judge quality by ear, but the signals have the structure the
engine cares about: a voiced harmonic source with a moving pitch (vibrato, phrase-to-phrase
steps), vowel-like formant envelopes that change per phrase, breath noise, short pauses (so
quiet-point cutting and f0 "unvoiced" frames get exercised) and, for songs, an instrumental bed
(bass, chords, kick, hi-hat) mixed with the vocal in stereo. Deterministic for a given seed.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from persona.audio.encode import write_sf

# Formant centre frequencies (Hz) and bandwidths for a few vowels (adult voice, rounded).
_VOWELS = {
    "a": ((730, 90), (1090, 110), (2440, 160)),
    "i": ((270, 60), (2290, 100), (3010, 200)),
    "u": ((300, 60), (870, 90), (2240, 150)),
    "e": ((530, 70), (1840, 100), (2480, 160)),
    "o": ((570, 80), (840, 90), (2410, 160)),
}


def _formant_gain(freqs: np.ndarray, vowel: str) -> np.ndarray:
    gain = np.zeros_like(freqs, dtype=np.float64)
    for centre, width in _VOWELS[vowel]:
        gain += 1.0 / (1.0 + ((freqs - centre) / width) ** 2)
    return 0.15 + gain  # a floor so upper harmonics are not all gone


def _fade(n: int, sr: int, ms: float = 20.0) -> np.ndarray:
    env = np.ones(n)
    k = min(n // 2, int(sr * ms / 1000))
    if k > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, k))
        env[:k] = ramp
        env[n - k :] = ramp[::-1]
    return env


def voice_like(
    seconds: float,
    sr: int,
    f0: float = 220.0,
    vibrato: bool = True,
    seed: int = 0,
    *,
    peak: float = 0.5,
) -> np.ndarray:
    """A sung-vowel-like mono signal, float32 (n,), peak ``peak``.

    Phrases of 0.6-1.4 s, each on its own vowel and note (within +-4 semitones of ``f0``),
    5.5 Hz vibrato of +-2 %, breath noise at about -30 dB, separated by 0.1-0.3 s pauses.
    """
    rng = np.random.default_rng(seed)
    n_total = int(round(seconds * sr))
    out = np.zeros(n_total, dtype=np.float64)
    pos = int(0.05 * sr)  # start with a little silence, as recordings do
    vowels = list(_VOWELS)
    while pos < n_total:
        length = min(int(rng.uniform(0.6, 1.4) * sr), n_total - pos)
        if length < int(0.05 * sr):
            break
        t = np.arange(length) / sr
        note = f0 * 2 ** (rng.integers(-4, 5) / 12.0)
        contour = np.full(length, note)
        if vibrato:
            contour *= 1.0 + 0.02 * np.sin(2 * np.pi * 5.5 * t + rng.uniform(0, 2 * np.pi))
        contour *= 1.0 + 0.01 * np.sin(2 * np.pi * 0.7 * t)  # slow drift
        phase = 2 * np.pi * np.cumsum(contour) / sr + rng.uniform(0, 2 * np.pi)
        vowel = vowels[int(rng.integers(len(vowels)))]
        n_harm = max(1, int(min(0.45 * sr, 8000.0) // note))
        k = np.arange(1, n_harm + 1)
        amps = _formant_gain(k * note, vowel) / k**0.7
        voiced = np.zeros(length)
        for kk, amp in zip(k, amps, strict=True):
            voiced += amp * np.sin(kk * phase)
        voiced /= np.max(np.abs(voiced)) + 1e-9
        breath = rng.standard_normal(length)
        breath = np.diff(breath, prepend=0.0) * 0.5  # tilt towards high frequencies
        env = _fade(length, sr, 40.0) * (0.8 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
        out[pos : pos + length] = env * (voiced + 0.03 * breath)
        pos += length + int(rng.uniform(0.1, 0.3) * sr)
    m = np.max(np.abs(out))
    if m > 0:
        out *= peak / m
    return out.astype(np.float32)


def song_like(seconds: float, sr: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A stereo "song": returns ``(mix, vocals, instrumental)``, each float32 (2, n), mix = sum.

    The vocal is ``voice_like`` slightly off centre; the instrumental has a bass line, sustained
    chords panned wide, a kick on every beat and a hi-hat on off-beats at 120 BPM. The mix peaks
    at about 0.9.
    """
    rng = np.random.default_rng(seed + 1000)
    n = int(round(seconds * sr))
    t = np.arange(n) / sr
    voice = voice_like(seconds, sr, f0=233.0, seed=seed, peak=1.0).astype(np.float64)
    vocals = np.stack([voice * 0.95, voice * 1.0])

    beat = 0.5  # 120 BPM
    roots = 55.0 * 2 ** (np.array([0, 5, 7, 3]) / 12.0)  # A1, D2, E2, C2
    bar = (t // (4 * beat)).astype(int) % len(roots)
    root = roots[bar]
    bass_phase = 2 * np.pi * np.cumsum(root) / sr
    bass = 0.6 * np.sin(bass_phase) + 0.2 * np.sin(2 * bass_phase)
    chord_l = np.zeros(n)
    chord_r = np.zeros(n)
    for interval, pan in ((12, 0.2), (16, 0.8), (19, 0.5), (24, 0.3)):
        ph = 2 * np.pi * np.cumsum(root * 2 ** (interval / 12.0)) / sr
        tone = sum(np.sin(h * ph) / h for h in range(1, 6))
        chord_l += (1 - pan) * tone
        chord_r += pan * tone
    drums = np.zeros(n)
    kick_len = int(0.15 * sr)
    kt = np.arange(kick_len) / sr
    kick = np.sin(2 * np.pi * (50 + 100 * np.exp(-kt * 30)) * kt) * np.exp(-kt * 20)
    hat_len = int(0.04 * sr)
    hat = rng.standard_normal(hat_len) * np.exp(-np.arange(hat_len) / (0.008 * sr))
    hat = np.diff(hat, prepend=0.0)
    for start_s in np.arange(0, seconds, beat):
        s = int(start_s * sr)
        e = min(n, s + kick_len)
        drums[s:e] += kick[: e - s]
        h = int((start_s + beat / 2) * sr)
        if h < n:
            he = min(n, h + hat_len)
            drums[h:he] += 0.3 * hat[: he - h]
    instrumental = np.stack(
        [0.5 * bass + 0.12 * chord_l + 0.5 * drums, 0.5 * bass + 0.12 * chord_r + 0.5 * drums]
    )
    instrumental *= 0.8 / (np.max(np.abs(instrumental)) + 1e-9)
    vocals *= 0.6
    mix = vocals + instrumental
    scale = 0.9 / (np.max(np.abs(mix)) + 1e-9)
    return (
        (mix * scale).astype(np.float32),
        (vocals * scale).astype(np.float32),
        (instrumental * scale).astype(np.float32),
    )


# ----------------------------------------------------------------------------------- file writers

# name -> (soundfile format, subtype) for formats libsndfile writes.
SF_FORMATS = {
    "wav_u8": ("WAV", "PCM_U8"),
    "wav16": ("WAV", "PCM_16"),
    "wav24": ("WAV", "PCM_24"),
    "wav32": ("WAV", "PCM_32"),
    "wav_float": ("WAV", "FLOAT"),
    "wav_double": ("WAV", "DOUBLE"),
    "flac": ("FLAC", "PCM_16"),
    "ogg": ("OGG", "VORBIS"),
    "opus": ("OGG", "OPUS"),
    "mp3": ("MP3", "MPEG_LAYER_III"),
}
# name -> (container, codec) for formats written through PyAV.
AV_FORMATS = {"m4a": ("ipod", "aac"), "aac": ("adts", "aac"), "mp3_av": ("mp3", "libmp3lame")}
SUFFIX = {
    "wav_u8": ".wav",
    "wav16": ".wav",
    "wav24": ".wav",
    "wav32": ".wav",
    "wav_float": ".wav",
    "wav_double": ".wav",
    "flac": ".flac",
    "ogg": ".ogg",
    "opus": ".opus",
    "mp3": ".mp3",
    "mp3_av": ".mp3",
    "m4a": ".m4a",
    "aac": ".aac",
}
ALL_FORMATS = tuple(SUFFIX)


def _channels_first(audio: np.ndarray) -> np.ndarray:
    a = np.asarray(audio, dtype=np.float32)
    return a[None, :] if a.ndim == 1 else a


def _write_av(path: Path, audio: np.ndarray, sr: int, container: str, codec: str) -> None:
    import av

    channels = audio.shape[0]
    layout = {1: "mono", 2: "stereo", 3: "2.1", 4: "quad", 6: "5.1"}.get(channels)
    if layout is None:
        raise ValueError(f"no test writer for {channels} channels in {codec}")
    with av.open(str(path), mode="w", format=container) as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(audio), format="fltp", layout=layout)
        frame.sample_rate = sr
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def write_audio(path: str | os.PathLike[str], audio: np.ndarray, sr: int, fmt: str) -> Path:
    """Write ``audio`` ((n,) or (channels, n)) to ``path`` in test format ``fmt`` (see ALL_FORMATS)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    data = np.clip(_channels_first(audio), -1.0, 1.0)
    if fmt in SF_FORMATS:
        container, subtype = SF_FORMATS[fmt]
        write_sf(p, data, sr, container, subtype)  # in blocks: big Vorbis writes crash libsndfile
    elif fmt in AV_FORMATS:
        _write_av(p, data, sr, *AV_FORMATS[fmt])
    else:
        raise ValueError(f"unknown test format {fmt!r}; one of {ALL_FORMATS}")
    return p


def write_voice(
    folder: str | os.PathLike[str],
    name: str = "voice",
    *,
    seconds: float = 3.0,
    sr: int = 44100,
    fmt: str = "wav16",
    seed: int = 0,
    f0: float = 220.0,
) -> Path:
    """Write a ``voice_like`` recording to ``folder/name.<ext>`` and return its path."""
    audio = voice_like(seconds, sr, f0=f0, seed=seed)
    return write_audio(Path(folder) / f"{name}{SUFFIX[fmt]}", audio, sr, fmt)


def write_song(
    folder: str | os.PathLike[str],
    name: str = "song",
    *,
    seconds: float = 6.0,
    sr: int = 44100,
    fmt: str = "wav16",
    seed: int = 0,
    stems: bool = False,
) -> dict[str, Path]:
    """Write a ``song_like`` mix (and with ``stems`` its vocals/instrumental) to ``folder``.

    Returns ``{"mix": path, ["vocals": path, "instrumental": path]}``.
    """
    mix, vocals, instrumental = song_like(seconds, sr, seed=seed)
    folder = Path(folder)
    paths = {"mix": write_audio(folder / f"{name}{SUFFIX[fmt]}", mix, sr, fmt)}
    if stems:
        paths["vocals"] = write_audio(folder / f"{name}.vocals{SUFFIX[fmt]}", vocals, sr, fmt)
        paths["instrumental"] = write_audio(
            folder / f"{name}.instrumental{SUFFIX[fmt]}", instrumental, sr, fmt
        )
    return paths


def write_text_as_audio(path: str | os.PathLike[str]) -> Path:
    """A non-audio file with an audio name (for bad-input tests)."""
    p = Path(path)
    p.write_text("this is not audio, just some text pretending to be a song\n" * 20, encoding="utf-8")
    return p


def write_silence(path: str | os.PathLike[str], seconds: float = 2.0, sr: int = 16000) -> Path:
    """A valid wav file of digital silence."""
    return write_audio(path, np.zeros(int(seconds * sr), dtype=np.float32), sr, "wav16")
