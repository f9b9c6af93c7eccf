"""Fixture Persona home: a complete data folder on tiny fixture assets, for tests and browser tests.

``build_home(root)`` writes settings-ready folders: fixture pretrained assets (from the other
areas' ``persona.testing.*`` builders when present), one or two small voice models in the
library, a finished cover, and returns the ``Settings``. Run as a program to start from it::

    python -m persona.testing.home DIR            # build DIR, print its settings as JSON
    python -m persona.testing.home DIR --serve --port 5055   # build, then `persona serve` on it

Models are built by ``persona.testing.rvc`` (the RVC small-model format, random weights) when that
builder exists; until then ``write_fixture_model`` writes a weights-only stand-in with the same keys
the library checks.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from persona.settings import Settings

SR = 16000


def write_fixture_model(
    path: str | Path, *, version: str = "v2", f0: bool = True, sample_rate: int = 40000
) -> Path:
    """A tiny RVC small-model ``.pth`` (random weights, RVC's dict layout)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:  # the real synthesizer's fixture builder (tiny random weights, RVC's exact format)
        from persona.testing.rvc import write_small_model
    except ImportError:
        write_small_model = None
    if write_small_model is not None:
        return Path(write_small_model(path, sr=f"{sample_rate // 1000}k", version=version, f0=f0))
    import torch

    dim = 256 if version == "v1" else 768
    hidden, gin = 8, 8
    weight = {
        "enc_p.emb_phone.weight": torch.randn(hidden, dim).half(),
        "emb_g.weight": torch.randn(1, gin).half(),
    }
    if f0:
        weight["enc_p.emb_pitch.weight"] = torch.randn(256, hidden).half()
    config = [
        1025,
        32,
        hidden,
        hidden,
        16,
        2,
        2,
        3,
        0,
        "1",
        [3],
        [[1, 3, 5]],
        [10, 8, 2, 2],
        16,
        [20, 16, 4, 4],
        1,
        gin,
        sample_rate,
    ]
    ckpt = {
        "weight": weight,
        "config": config,
        "info": "fixture",
        "sr": f"{sample_rate // 1000}k",
        "f0": int(f0),
        "version": version,
    }
    torch.save(ckpt, path)
    return path


def write_fixture_index(folder: str | Path, *, version: str = "v2", exp_name: str = "fixture") -> Path:
    from persona.testing.index import write_rvc_index

    added, trained = write_rvc_index(folder, dim=256 if version == "v1" else 768, n=120, exp_name=exp_name)
    trained.unlink()
    return added


def write_fixture_song(path: str | Path, seconds: float = 2.0, sr: int = SR) -> Path:
    """A short harmonic 'song' wav (a sung-like tone with vibrato over a quiet chord)."""
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    f = 220 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    voice = 0.3 * np.sin(2 * np.pi * np.cumsum(f) / sr)
    chord = 0.05 * (np.sin(2 * np.pi * 110 * t) + np.sin(2 * np.pi * 165 * t))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, (voice + chord).astype(np.float32), sr)
    return path


def write_fixture_assets(settings: Settings) -> list[str]:
    """Tiny pretrained weights under API.md's asset names, from each area's fixture builder:
    training (``hubert_base/``, ``rmvpe.pt``, ``pretrained_v2/f0G40k.pth``...) and separation."""
    built = []
    try:
        from persona.testing.training import write_training_assets

        write_training_assets(settings.assets, "40k", "tiny")
        built.append("training")
    except ImportError:
        pass
    try:
        from persona.testing.separation import write_all

        write_all(settings.assets)
        built.append("separation")
    except ImportError:
        pass
    return built


def build_home(
    root: str | Path, *, token: str | None = None, with_samples: bool = True, with_assets: bool = True
) -> Settings:
    """Build a complete fixture home under ``root`` and return its Settings.

    ``root/assets``: tiny pretrained weights; ``root/home``: two models (``데모 목소리`` v2 with an
    index, ``plain-v1``) and one cover; ``root/song.wav``, ``root/voice1.wav``, ``root/voice2.wav``
    to upload. Models are tiny real synthesizers, so the real engines run on this home too
    (``--tiny-models``).
    """
    from persona.library import CoverLibrary, ModelLibrary

    root = Path(root)
    # PERSONA_* limits from the environment apply (tests tune the front door's timeouts that way).
    settings = Settings.from_env(home=root / "home", assets_dir=root / "assets", device="cpu").replace(
        token=token
    )
    settings.home.mkdir(parents=True, exist_ok=True)
    if with_assets:
        write_fixture_assets(settings)
    if with_samples:
        lib = ModelLibrary(settings)
        work = root / "work"
        if not lib.exists("데모 목소리"):
            pth = write_fixture_model(work / "demo.pth", version="v2")
            index = write_fixture_index(work / "index", version="v2", exp_name="demo")
            lib.add("데모 목소리", pth, index, source="fixture")
        if not lib.exists("plain-v1"):
            lib.add("plain-v1", write_fixture_model(work / "v1.pth", version="v1"), source="fixture")
        covers = CoverLibrary(settings)
        if not covers.list():
            song = write_fixture_song(work / "cover.wav")
            covers.add(song, model="데모 목소리", song_name="demo song.wav", pitch=0, duration_s=2.0)
        write_fixture_song(root / "song.wav", seconds=3.0)
        # Recordings long enough for real training (at least 10 s of voice, each file alone too).
        for i in range(2):
            write_fixture_song(root / f"voice{i + 1}.wav", seconds=11.0 + i)
    return settings


# ---- processes for tests and benchmarks -------------------------------------------------------------
_CLI = "import sys; from persona.cli import main; sys.exit(main(sys.argv[1:]))"


def wait_for(pred, timeout: float = 60.0, every: float = 0.05, what: str = "condition"):
    """Poll ``pred`` until it returns something truthy; the deadline only guards against hangs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"{what} not reached within {timeout:g} s")


def start_worker(settings: Settings, *extra: str, workers: int = 2, log=None) -> subprocess.Popen:
    """``persona worker`` on ``settings``' home in its own process group (``extra``: CLI flags)."""
    args = [sys.executable, "-c", _CLI, "--home", str(settings.home), "--assets", str(settings.assets)]
    args += ["--device", settings.device, "worker", "--workers", str(workers), *extra]
    return subprocess.Popen(
        args, start_new_session=True, stdout=log or subprocess.DEVNULL, stderr=log or subprocess.DEVNULL
    )


def stop_process(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 30.0) -> None:
    """Signal the process group; SIGKILL it if it has not gone within ``timeout``."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    root: str | Path, *extra: str, port: int | None = None, log=None, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen, str]:
    """``python -m persona.testing.home ROOT --serve`` on a free port; returns (process, base URL)
    once the process runs (callers wait for ``/api/health``). ``env``: variables added to ours."""
    port = port or free_port()
    args = [sys.executable, "-m", "persona.testing.home", str(root), "--serve", "--port", str(port), *extra]
    proc = subprocess.Popen(
        args,
        start_new_session=True,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        env={**os.environ, **env} if env else None,
    )
    return proc, f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def live_server(root: str | Path, *, token: str | None = None, env: dict[str, str] | None = None):
    """A whole ``persona serve`` on a fixture home (stand-in jobs, no weights), ``env`` added to
    its environment (``PERSONA_*`` limits): yields (base URL, the server's process group) once
    ``/api/health`` answers, and stops it afterwards. Its log is ``ROOT/server.log``."""
    import requests

    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    extra = ("--token", token) if token else ()
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with open(root / "server.log", "w") as log:
        proc, base = start_server(root, *extra, "--fixture-jobs", "--no-assets", log=log, env=env)

        def up() -> bool:
            try:
                return requests.get(f"{base}/api/health", headers=headers, timeout=2).status_code == 200
            except requests.ConnectionError:
                assert proc.poll() is None, (root / "server.log").read_text()
                return False

        try:
            wait_for(up, timeout=120, every=0.2)
            yield base, proc.pid  # its own session: the group id is its pid
        finally:
            stop_process(proc)


def settings_json(settings: Settings) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in dataclasses.asdict(settings).items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m persona.testing.home", description=__doc__.splitlines()[0]
    )
    parser.add_argument("dir")
    parser.add_argument("--token")
    parser.add_argument("--serve", action="store_true", help="then run `persona serve` on it")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    jobs = parser.add_mutually_exclusive_group()  # the worker's registry: persona.testing.jobs
    jobs.add_argument(
        "--fixture-jobs",
        dest="handlers",
        action="store_const",
        const="fixture",
        help="train/cover jobs run quick stand-ins",
    )
    jobs.add_argument(
        "--tiny-models",
        dest="handlers",
        action="store_const",
        const="tiny",
        help="real engines, tiny training config",
    )
    parser.add_argument("--no-assets", action="store_true", help="skip the fixture pretrained weights")
    parser.add_argument("--threads", type=int, default=64, help="gunicorn threads")
    args = parser.parse_args(argv)
    settings = build_home(args.dir, token=args.token, with_assets=not args.no_assets)
    print(json.dumps(settings_json(settings), ensure_ascii=False), flush=True)
    if args.serve:
        from persona.server.run import serve
        from persona.testing.jobs import settings_for

        if args.handlers:
            settings = settings_for(settings, args.handlers)
        serve(settings.replace(host=args.host, port=args.port), handlers=args.handlers, threads=args.threads)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
