"""Consent gate figures: speaker-similarity of a read consent clip against training recordings,
same speaker vs different speakers, on the synthetic voices Debian ships; and what the speech
check says of silence, noise, tones and music.

Speakers: festival (kal, ked, us-slt-hts, Czech dita/krb/machac/ph, Italian lp/pc) and espeak-ng
variants. Each speaker's "training recordings" are six sentences read together; each "consent
clip" two other sentences, passed through the channel a phone page gives (Opus 24 kbit/s via
ffmpeg, noise at 30 dB SNR, -6 dB). Prints every score and the false accept / false reject rate
at a few thresholds. Needs festival, the festvox voices above, espeak-ng and ffmpeg.

    python benchmarks/bench_consent.py [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

from persona.audio.resample import resample
from persona.consent import speech
from persona.quality import speaker

SENTENCES = [
    "The birch canoe slid on the smooth planks.",
    "Glue the sheet to the dark blue background.",
    "It is easy to tell the depth of a well.",
    "These days a chicken leg is a rare dish.",
    "Rice is often served in round bowls.",
    "The juice of lemons makes fine punch.",
    "The box was thrown beside the parked truck.",
    "The hogs were fed chopped corn and garbage.",
    "Four hours of steady work faced us.",
    "A large size in stockings is hard to sell.",
    "The boy was there when the sun rose.",
    "A rod is used to catch pink salmon.",
    "The source of the huge river is the clear spring.",
    "Kick the ball straight and follow through.",
    "Help the woman get back to her feet.",
    "A pot of tea helps to pass the evening.",
    "Smoky fires lack flame and heat.",
    "The soft cushion broke the man's fall.",
]
TRAIN = SENTENCES[:6]
PROBES = [SENTENCES[6:8], SENTENCES[8:10], SENTENCES[10:12], SENTENCES[12:14], SENTENCES[14:16]]

FESTIVAL = [
    "kal_diphone",
    "ked_diphone",
    "cmu_us_slt_arctic_hts",
    "czech_dita",
    "czech_krb",
    "czech_machac",
    "czech_ph",
    "lp_diphone",
    "pc_diphone",
]
ESPEAK = ["en+m1", "en+m3", "en+f2", "en+f4", "de+m2", "fr+f1", "es+m4", "it+f3"]


def say(speaker_id: str, text: str, out: Path) -> tuple[np.ndarray, int]:
    if speaker_id.startswith("espeak:"):
        subprocess.run(["espeak-ng", "-v", speaker_id[7:], "-w", str(out), text], check=True)
    else:
        subprocess.run(
            ["text2wave", "-eval", f"(voice_{speaker_id[9:]})", "-o", str(out)],
            input=text.encode(),
            check=True,
            capture_output=True,
        )
    audio, sr = sf.read(out, dtype="float32", always_2d=True)
    return audio.mean(axis=1), sr


def phone_channel(audio: np.ndarray, sr: int, work: Path, seed: int) -> np.ndarray:
    """What a phone browser's MediaRecorder hands the server: Opus at a low rate, room noise, quieter."""
    src, enc = work / "ch.wav", work / "ch.webm"
    sf.write(src, audio, sr)
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-c:a", "libopus", "-b:a", "24k", str(enc)],
        check=True,
    )
    dec = work / "ch_dec.wav"
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", str(enc), "-ar", "16000", str(dec)], check=True
    )
    x, _ = sf.read(dec, dtype="float32")
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal(len(x)).astype(np.float32)
    noise *= np.sqrt(np.mean(x**2) / 10 ** (30 / 10)) / (np.sqrt(np.mean(noise**2)) + 1e-12)
    return (x + noise) * 10 ** (-6 / 20)


def voices() -> list[str]:
    return [f"festival:{v}" for v in FESTIVAL] + [f"espeak:{v}" for v in ESPEAK]


def speaker_scores(work: Path) -> dict:
    enroll, probes = {}, {}
    for i, v in enumerate(voices()):
        parts = [say(v, t, work / "s.wav") for t in TRAIN]
        sr = parts[0][1]
        enroll[v] = speaker.embed(np.concatenate([p[0] for p in parts]), sr)
        probes[v] = []
        for j, pair in enumerate(PROBES):
            a = [say(v, t, work / "s.wav") for t in pair]
            clip = phone_channel(np.concatenate([p[0] for p in a]), a[0][1], work, seed=i * 10 + j)
            probes[v].append(speaker.embed(clip, 16000))
        print(f"  {v}: done", file=sys.stderr)
    genuine, impostor = [], []
    for v, embs in probes.items():
        for e in embs:
            genuine.append(float(np.dot(enroll[v], e)))
            for w in enroll:
                if w != v:
                    impostor.append(float(np.dot(enroll[w], e)))
    return {"genuine": genuine, "impostor": impostor}


def rates(genuine: list[float], impostor: list[float], thresholds) -> list[dict]:
    g, m = np.array(genuine), np.array(impostor)
    return [
        {"threshold": t, "false_reject": float((g < t).mean()), "false_accept": float((m >= t).mean())}
        for t in thresholds
    ]


def speech_cases(work: Path) -> dict:
    rng = np.random.default_rng(0)
    sr = 16000
    t = np.arange(sr * 6) / sr
    voiced, vsr = say("festival:kal_diphone", " ".join(PROBES[0]), work / "v.wav")
    cases = {
        "silence": np.zeros(sr * 6, np.float32),
        "white noise": (0.1 * rng.standard_normal(sr * 6)).astype(np.float32),
        "pink-ish noise": np.cumsum(rng.standard_normal(sr * 6)).astype(np.float32) / 300,
        "440 Hz tone": (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32),
        "chord (synthetic music)": sum(0.1 * np.sin(2 * np.pi * f * t) for f in (261.6, 329.6, 392.0)).astype(
            np.float32
        ),
        "read speech (kal)": resample(voiced, vsr, sr),
        "read speech + 20 dB noise": None,
    }
    sp = cases["read speech (kal)"]
    n = rng.standard_normal(len(sp)).astype(np.float32)
    cases["read speech + 20 dB noise"] = sp + n * np.sqrt(np.mean(sp**2) / 100) / np.sqrt(np.mean(n**2))
    out = {}
    for name, x in cases.items():
        f = speech.measure(x)
        out[name] = {
            "duration_s": round(f.duration_s, 2),
            "speech_s": round(f.speech_s, 2),
            "vad_s": round(f.vad_s, 2),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cases = speech_cases(work)
        scores = speaker_scores(work)
    g, m = scores["genuine"], scores["impostor"]
    table = rates(g, m, [0.55, 0.60, 0.65, 0.70, 0.75, 0.80, 0.85])
    report = {
        "speech": cases,
        "speakers": len(voices()),
        "genuine": {"n": len(g), "min": min(g), "median": float(np.median(g)), "max": max(g)},
        "impostor": {
            "n": len(m),
            "min": min(m),
            "median": float(np.median(m)),
            "p99": float(np.quantile(m, 0.99)),
            "max": max(m),
        },
        "rates": table,
        "scores": scores,
    }
    print(json.dumps({k: v for k, v in report.items() if k != "scores"}, indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
