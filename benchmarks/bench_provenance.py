"""Provenance: watermark robustness, false positives, audibility, and the cost on a 3:30 cover.

    PYTHONPATH=src python benchmarks/bench_provenance.py [--quick] [--json OUT.json] [--perth]

- Robustness: marked songs (``persona.testing.audio.song_like``, 60 s, stereo 44.1 kHz, with a
  -50 dB noise floor) and speech (festival voices, 60 s), each attacked with ffmpeg/sox: MP3
  128 kbit/s, AAC 128 kbit/s, resampling to 22.05 kHz, +6 dB (clipped, 16-bit) and -6 dB, a 10 s
  excerpt from the middle, white noise at 20 dB SNR, speed +-5 % (sox ``speed``: pitch and tempo)
  and tempo +-5 % (sox ``tempo``: pitch kept).
- False positives: >= 100 unmarked files: synthetic songs and other synthesised music (several
  timbres, drum patterns, tempi), festival speech (English, Czech, Italian voices), espeak-ng
  speech in many languages, and their MP3s.
- Audibility: SNR of marked vs unmarked; PESQ (wide band, ITU-T P.862.2) on speech when the
  ``pesq`` package can be imported (``pip install pesq==0.0.4``; it builds from source), ViSQOL
  v3 audio mode on songs when ``visqol`` can (``pip install visqol-python==3.8.0
  libsvm-official==3.37.0``, a pure-Python port of Google's ViSQOL).
- Cost: marking (the mixer's streaming ``Marker``) and credentials (tags + signed C2PA) of a 3:30
  stereo 44.1 kHz cover, CPU and wall seconds; detection time of the same file.
- ``--perth``: the same songs and speech through resemble-perth's network with our front end
  (``perth_frontend.py``; needs ``resemble-perth==1.0.1`` installed), the alternative not taken.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from persona import provenance
from persona.audio.resample import resample
from persona.provenance import watermark
from persona.settings import Settings
from persona.testing.audio import song_like

SR = 44100
SENTENCES = [
    "The quick brown fox jumps over the lazy dog near the quiet river bank.",
    "Please call Stella and ask her to bring these things with her from the store.",
    "A rainbow is a division of white light into many beautiful colors.",
    "She sells sea shells by the sea shore, and the shells she sells are surely seashells.",
    "Every good boy does fine, but the weather today is cold and grey over the hills.",
    "Numbers like one hundred and twenty three are read aloud slowly and clearly.",
]
FESTIVAL = {
    "kal": ("voice_kal_diphone", "en"),
    "ked": ("voice_ked_diphone", "en"),
    "slt": ("voice_cmu_us_slt_arctic_hts", "en"),
    "dita": ("voice_czech_dita", "cs"),
    "krb": ("voice_czech_krb", "cs"),
    "machac": ("voice_czech_machac", "cs"),
    "lp": ("voice_lp_diphone", "it"),
    "pc": ("voice_pc_diphone", "it"),
}
CS = [
    "Dobrý den, dnes je krásné počasí a jdeme na procházku do parku.",
    "Praha je hlavní město České republiky.",
]
IT = ["Buongiorno, oggi il tempo è bello e andiamo a fare una passeggiata.", "Roma è la capitale d'Italia."]
ESPEAK = ["en-us", "en-gb", "de", "fr-fr", "es", "it", "ko", "ja", "pt", "nl", "pl", "ru", "sv", "fi", "hu"]


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def read(path: Path) -> tuple[np.ndarray, int]:
    from persona.audio.io import load_audio

    return load_audio(path, mono=False)


def festival(text: str, voice: str, out: Path) -> np.ndarray:
    txt = out.with_suffix(".txt")
    txt.write_text(text, encoding="latin-1", errors="replace")
    run(["text2wave", "-eval", f"({voice})", str(txt), "-o", str(out)])
    audio, sr = sf.read(out, dtype="float32")
    return resample(audio if audio.ndim == 1 else audio.mean(axis=1), sr, SR)


def espeak(text: str, voice: str, out: Path, speed: int = 160, pitch: int = 50) -> np.ndarray:
    run(["espeak-ng", "-v", voice, "-s", str(speed), "-p", str(pitch), "-w", str(out), text])
    audio, sr = sf.read(out, dtype="float32")
    return resample(audio, sr, SR)


def speech_montage(seconds: float, seed: int, work: Path) -> np.ndarray:
    """Festival sentences by several voices, end to end, with short pauses, mono."""
    rng = np.random.default_rng(seed)
    parts: list[np.ndarray] = []
    total = 0
    while total < seconds * SR:
        key = list(FESTIVAL)[int(rng.integers(len(FESTIVAL)))]
        voice, lang = FESTIVAL[key]
        text = {"en": SENTENCES, "cs": CS, "it": IT}[lang][int(rng.integers(2 if lang != "en" else 6))]
        x = festival(text, voice, work / "sentence.wav")
        parts += [x, np.zeros(int(rng.uniform(0.2, 0.6) * SR), np.float32)]
        total += sum(len(p) for p in parts[-2:])
    x = np.concatenate(parts)[: int(seconds * SR)]
    return (0.8 * x / (np.abs(x).max() + 1e-9)).astype(np.float32)


def synth_music(seconds: float, seed: int) -> np.ndarray:
    """Other synthesised music than song_like: random keys, tempi, timbres and drum patterns, stereo."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    bpm = rng.uniform(70, 160)
    beat = 60.0 / bpm
    root = 55.0 * 2 ** (rng.integers(0, 12) / 12)
    prog = rng.choice([0, 3, 5, 7, 8, 10], size=4)
    bar = (t // (4 * beat)).astype(int) % 4
    freq = root * 2 ** (prog[bar] / 12.0)
    timbre = int(rng.integers(3))
    out = np.zeros((2, n))
    for octave, pan in ((1, 0.5), (2, rng.uniform(0, 1)), (4, rng.uniform(0, 1))):
        ph = 2 * np.pi * np.cumsum(freq * octave) / SR
        if timbre == 0:
            tone = np.sin(ph)
        elif timbre == 1:  # saw
            tone = sum(np.sin(k * ph) / k for k in range(1, 12))
        else:  # square-ish
            tone = sum(np.sin(k * ph) / k for k in range(1, 12, 2))
        out += np.stack([(1 - pan) * tone, pan * tone]) / octave
    # melody: random notes on the scale, plucked
    mel = np.zeros(n)
    step = beat / 2
    for s in np.arange(0, seconds, step):
        if rng.random() < 0.3:
            continue
        a = int(s * SR)
        m = min(n - a, int(step * SR))
        f = root * 4 * 2 ** (rng.choice([0, 2, 3, 5, 7, 9, 10, 12]) / 12)
        tt = np.arange(m) / SR
        mel[a : a + m] += np.sin(2 * np.pi * f * tt) * np.exp(-tt * rng.uniform(3, 10))
    out += 0.6 * mel
    drums = np.zeros(n)
    noise = rng.standard_normal(n + SR)  # room for the last hi-hat
    for s in np.arange(0, seconds, beat):
        a = int(s * SR)
        m = min(n - a, int(0.2 * SR))
        tt = np.arange(m) / SR
        drums[a : a + m] += np.sin(2 * np.pi * (45 + 90 * np.exp(-tt * 25)) * tt) * np.exp(-tt * 15)
        if int(s / beat) % 2 == 1:  # snare
            drums[a : a + m] += 0.5 * noise[a : a + m] * np.exp(-tt * 20)
        h = int((s + beat / 2) * SR)
        if h < n:
            hm = min(n - h, int(0.05 * SR))
            drums[h : h + hm] += 0.2 * np.diff(noise[h : h + hm + 1]) * np.exp(-np.arange(hm) / (0.01 * SR))
    out += drums
    return (0.85 * out / (np.abs(out).max() + 1e-9)).astype(np.float32)


def noisy_song(seconds: float, seed: int) -> np.ndarray:
    mix, _, _ = song_like(seconds, SR, seed=seed)
    floor = np.random.default_rng(seed).standard_normal(mix.shape).astype(np.float32) * 10 ** (-50 / 20)
    return mix + floor


# ------------------------------------------------------------------------------------- attacks


def attack(name: str, path: Path, work: Path) -> Path:
    out = work / f"attacked-{name}"
    if name == "none":
        return path
    if name == "mp3_128k":
        run(["ffmpeg", "-y", "-i", str(path), "-c:a", "libmp3lame", "-b:a", "128k", str(out) + ".mp3"])
        return Path(str(out) + ".mp3")
    if name == "aac_128k":
        run(["ffmpeg", "-y", "-i", str(path), "-c:a", "aac", "-b:a", "128k", str(out) + ".m4a"])
        return Path(str(out) + ".m4a")
    if name == "resample_22k":
        run(["sox", str(path), "-r", "22050", str(out) + ".wav"])
        return Path(str(out) + ".wav")
    if name in ("gain_+6dB", "gain_-6dB"):
        run(["sox", str(path), "-b", "16", str(out) + ".wav", "gain", name[5:-2]])  # clips at +6
        return Path(str(out) + ".wav")
    if name == "excerpt_10s":
        audio, sr = sf.read(path, dtype="float32")
        mid = len(audio) // 2
        sf.write(str(out) + ".wav", audio[mid - 5 * sr : mid + 5 * sr], sr, subtype="PCM_16")
        return Path(str(out) + ".wav")
    if name == "noise_20dB":
        audio, sr = sf.read(path, dtype="float32")
        power = float((audio**2).mean())
        rng = np.random.default_rng(7)
        noisy = audio + rng.standard_normal(audio.shape).astype(np.float32) * np.sqrt(power / 100)
        sf.write(str(out) + ".wav", np.clip(noisy, -1, 1), sr, subtype="PCM_16")
        return Path(str(out) + ".wav")
    if name in ("speed_+5%", "speed_-5%"):
        factor = "1.05" if name == "speed_+5%" else "0.95"
        rate = str(sf.info(path).samplerate)  # resampled back to the file's rate, as players need
        run(["sox", str(path), str(out) + ".wav", "speed", factor, "rate", rate])
        return Path(str(out) + ".wav")
    if name in ("tempo_+5%", "tempo_-5%"):  # time stretched, pitch kept (sox's WSOLA)
        run(["sox", str(path), str(out) + ".wav", "tempo", "1.05" if name == "tempo_+5%" else "0.95"])
        return Path(str(out) + ".wav")
    raise ValueError(name)


ATTACKS = (
    "none",
    "mp3_128k",
    "aac_128k",
    "resample_22k",
    "gain_+6dB",
    "gain_-6dB",
    "excerpt_10s",
    "noise_20dB",
    "speed_+5%",
    "speed_-5%",
    "tempo_+5%",
    "tempo_-5%",
)


def robustness(items: list[tuple[str, np.ndarray]], work: Path, attacks=ATTACKS) -> dict:
    table: dict[str, dict] = {}
    snrs, pesqs = [], []
    for label, audio in items:
        marked = provenance.mark_audio(audio, SR)
        diff = marked - audio
        snrs.append(float(10 * np.log10((audio**2).sum() / (diff**2).sum())))
        if label.startswith("speech") and _pesq() is not None:
            pesqs.append(_pesq_wb(audio, marked))
        path = work / f"{label}.wav"
        sf.write(path, (marked.T if marked.ndim == 2 else marked), SR, subtype="PCM_16")
        for name in attacks:
            found = provenance.detect_file(attack(name, path, work))
            row = table.setdefault(name, {"detected": 0, "total": 0, "scores": []})
            row["detected"] += int(found["marked"])
            row["total"] += 1
            row["scores"].append(found["score"])
        print(f"  {label}: " + ", ".join(f"{k} {v['scores'][-1]:.1f}" for k, v in table.items()), flush=True)
    for row in table.values():
        s = row.pop("scores")
        row.update(min_score=round(min(s), 1), median_score=round(float(np.median(s)), 1))
    audibility = {
        "snr_db_mean": round(float(np.mean(snrs)), 1),
        "snr_db_min": round(float(np.min(snrs)), 1),
        "pesq_wb_mean": round(float(np.mean(pesqs)), 2) if pesqs else None,
        "pesq_wb_min": round(float(np.min(pesqs)), 2) if pesqs else None,
    }
    return {"attacks": table, "audibility": audibility}


def audibility(items: list[tuple[str, np.ndarray]]) -> dict:
    """SNR of marked vs unmarked per item, and PESQ (wide band) for speech."""
    out = {}
    for label, audio in items:
        marked = provenance.mark_audio(audio, SR)
        diff = marked - audio
        row = {"snr_db": round(float(10 * np.log10((audio**2).sum() / (diff**2).sum())), 1)}
        if label.startswith("speech") and _pesq() is not None:
            row["pesq_wb_marked"] = round(_pesq_wb(audio, marked), 2)
            row["pesq_wb_self"] = round(_pesq_wb(audio, audio), 2)  # the scale's ceiling
        if label.startswith("song") and _visqol() is not None:
            row["visqol_marked"] = round(_visqol_audio(audio, marked), 3)
            row["visqol_self"] = round(_visqol_audio(audio, audio), 3)
        out[label] = row
        print(f"  {label}: {row}", flush=True)
    return out


def _visqol():
    try:
        from visqol import VisqolApi
    except ImportError:
        return None
    api = VisqolApi()
    api.create(mode="audio")
    return api


def _visqol_audio(ref: np.ndarray, deg: np.ndarray) -> float:
    """ViSQOL v3 audio mode (48 kHz, mono): MOS-LQO, at most about 4.73."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, x in (("ref", ref), ("deg", deg)):
            path = Path(tmp) / f"{name}.wav"
            sf.write(path, resample(x if x.ndim == 1 else x.mean(axis=0), SR, 48000), 48000, subtype="FLOAT")
            paths.append(str(path))
        return float(_visqol().measure(*paths).moslqo)


def _pesq():
    try:
        from pesq import pesq

        return pesq
    except ImportError:
        return None


def _pesq_wb(ref: np.ndarray, deg: np.ndarray) -> float:
    a = resample(ref if ref.ndim == 1 else ref.mean(axis=0), SR, 16000)
    b = resample(deg if deg.ndim == 1 else deg.mean(axis=0), SR, 16000)
    return float(_pesq()(16000, a, b, "wb"))


def false_positives(count_songs: int, count_music: int, work: Path) -> dict:
    scores: dict[str, list[float]] = {}

    def check(kind: str, audio: np.ndarray, also_mp3: bool = False) -> None:
        path = work / "fp.wav"
        sf.write(path, audio.T if audio.ndim == 2 else audio, SR, subtype="PCM_16")
        scores.setdefault(kind, []).append(provenance.detect_file(path)["score"])
        if also_mp3:
            scores.setdefault(kind + " (mp3)", []).append(
                provenance.detect_file(attack("mp3_128k", path, work))["score"]
            )

    for i in range(count_songs):
        check("song_like", noisy_song(30.0, 1000 + i), also_mp3=i < 10)
    for i in range(count_music):
        check("synth music", synth_music(30.0, 2000 + i), also_mp3=i < 10)
    for i, (voice, lang) in enumerate(FESTIVAL.values()):
        texts = {"en": SENTENCES, "cs": CS, "it": IT}[lang]
        for j, text in enumerate(texts[:3]):
            check("festival speech", festival(text, voice, work / f"f{i}{j}.wav"))
    for i, voice in enumerate(ESPEAK):
        for j, (speed, pitch) in enumerate(((140, 40), (175, 60))):
            check("espeak-ng speech", espeak(SENTENCES[(i + j) % 6], voice, work / "e.wav", speed, pitch))
    flat = [s for v in scores.values() for s in v]
    return {
        "files": len(flat),
        "false_positives": int(sum(s >= watermark.THRESHOLD for s in flat)),
        "max_score": round(max(flat), 2),
        "p99_score": round(float(np.percentile(flat, 99)), 2),
        "by_kind": {
            k: {"files": len(v), "max": round(max(v), 2), "mean": round(float(np.mean(v)), 2)}
            for k, v in scores.items()
        },
    }


def cost(work: Path) -> dict:
    """Mark (streaming, as the mixer does) + credentials of a 3:30 stereo 44.1 kHz cover."""
    seconds = 210.0
    audio = noisy_song(seconds, 77)
    settings = Settings(home=work / "home")
    provenance.check_ready(settings)  # the key exists, as after the first start

    def timed(fn):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        return out, time.process_time() - c0, time.perf_counter() - w0

    def mark():
        marker = watermark.Marker(SR, 2)
        parts = [marker.process(audio[:, i : i + 65536]) for i in range(0, audio.shape[1], 65536)]
        return np.concatenate([*parts, marker.flush()], axis=1)

    marked, mark_cpu, mark_wall = timed(mark)
    result = {"mark_cpu_s": round(mark_cpu, 2), "mark_wall_s": round(mark_wall, 2)}
    for fmt, kw in (("wav", {"subtype": "PCM_24"}), ("mp3", {})):
        path = work / f"cover.{fmt}"
        sf.write(path, marked.T, SR, **kw)
        before = path.stat().st_size
        facts = provenance.CoverFacts(model_sha256="0" * 64)
        _, cpu, wall = timed(lambda p=path, f=facts: provenance.credential_file(p, f, settings))
        result[f"credentials_{fmt}_cpu_s"] = round(cpu, 2)
        result[f"credentials_{fmt}_wall_s"] = round(wall, 2)
        result[f"credentials_{fmt}_bytes_added"] = path.stat().st_size - before
    model = work / "model.pth"  # a v2 40k model is about 55 MB; its SHA-256 goes in the manifest
    model.write_bytes(np.random.default_rng(0).bytes(55 * 2**20))
    _, cpu, wall = timed(lambda: provenance.model_facts(model))
    result.update(model_hash_cpu_s=round(cpu, 2), model_hash_wall_s=round(wall, 2))
    found, cpu, wall = timed(lambda: provenance.detect_file(work / "cover.wav"))
    result.update(detect_cpu_s=round(cpu, 2), detect_wall_s=round(wall, 2), detect_score=found["score"])
    # the cover itself on this CPU: 324 s wall / 618 CPU-s (shared/design/MEASURED.md, quiet machine)
    added_cpu = mark_cpu + result["credentials_wav_cpu_s"] + result["model_hash_cpu_s"]
    added_wall = mark_wall + result["credentials_wav_wall_s"] + result["model_hash_wall_s"]
    result.update(
        added_cpu_s=round(added_cpu, 2),
        added_wall_s=round(added_wall, 2),
        added_percent_of_cover_cpu=round(100 * added_cpu / 618.0, 2),
        added_percent_of_cover_wall=round(100 * added_wall / 324.0, 2),
    )
    return result


def perth_compare(items: list[tuple[str, np.ndarray]]) -> dict:
    import torch

    sys.path.insert(0, str(Path(__file__).parent))
    from perth_frontend import SR as PSR
    from perth_frontend import load_perth

    net = load_perth()
    rows = []
    for label, audio in items:
        mono = audio if audio.ndim == 1 else audio.mean(axis=0)
        x = torch.from_numpy(resample(mono, SR, PSR).astype(np.float32))
        d = net.embed(x)
        snr = float(10 * np.log10((x**2).sum() / (d**2).sum()))
        rows.append(
            {
                "item": label,
                "snr_db": round(snr, 1),
                "marked": round(net.score(x + d), 3),
                "unmarked": round(net.score(x), 3),
            }
        )
    return {"rows": rows}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer files (a smoke run)")
    ap.add_argument("--json", help="write the results here")
    ap.add_argument("--perth", action="store_true", help="also measure resemble-perth with our front end")
    ap.add_argument("--only", nargs="*", default=["robustness", "false_positives", "cost"])
    ap.add_argument("--attacks", nargs="*", default=list(ATTACKS), help="a subset of the attacks")
    args = ap.parse_args()
    for tool in ("ffmpeg", "sox", "text2wave", "espeak-ng"):
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed")
    results: dict = {"threshold": watermark.THRESHOLD, "depth": watermark.DEPTH, "cpu": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-provenance-") as tmp:
        work = Path(tmp)
        n_songs, n_speech = (2, 1) if args.quick else (6, 3)
        items = []
        if {"robustness", "audibility"} & set(args.only) or args.perth:
            items = [(f"song{i}", noisy_song(60.0, 100 + i)) for i in range(n_songs)]
            items += [(f"speech{i}", speech_montage(60.0, 200 + i, work)) for i in range(n_speech)]
        if "robustness" in args.only:
            print("robustness", flush=True)
            results["robustness"] = robustness(items, work, args.attacks)
        if "audibility" in args.only:
            print("audibility", flush=True)
            results["audibility"] = audibility(items)
        if "false_positives" in args.only:
            print("false positives", flush=True)
            results["false_positives"] = false_positives(
                4 if args.quick else 40, 4 if args.quick else 30, work
            )
        if "cost" in args.only:
            print("cost", flush=True)
            results["cost"] = cost(work)
        if args.perth:
            results["perth"] = perth_compare(items)
    results["load_after"] = os.getloadavg()
    text = json.dumps(results, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text)


if __name__ == "__main__":
    main()
