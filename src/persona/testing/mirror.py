"""A local weights mirror for tests: tiny fixture assets served on 127.0.0.1, with a pins file.

``build_mirror(root)`` writes the fixture assets (``persona.testing.home.write_fixture_assets``)
under ``root/source``, a pins file ``root/pins.json`` (their sizes and sha256 under the
manifest's names, see ``Settings.asset_pins``) and returns what to serve (URL path -> bytes), so
a server with ``asset_base_url`` pointing at the mirror and ``asset_pins`` at the file downloads
and verifies them as it would the real weights. ``python -m persona.testing.mirror ROOT`` serves
them until killed and prints ``{"url", "pins"}`` (the browser tests use it).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path
from urllib.parse import urlsplit

from persona.settings import Settings


def build_mirror(root: str | Path) -> tuple[Path, dict[str, bytes]]:
    """(pins file, {url path: bytes}) for every manifest asset the fixture builders make."""
    from persona.assets import manifest as _manifest
    from persona.testing.home import write_fixture_assets

    root = Path(root)
    source = root / "source"
    write_fixture_assets(Settings(home=root / "unused", assets_dir=source))
    manifest = _manifest.MANIFEST
    pins: dict[str, list[dict]] = {}
    for name, asset in manifest.items():
        where = source / name
        if asset.is_folder and where.is_dir():
            files = sorted(p for p in where.iterdir() if p.is_file())
        elif not asset.is_folder and where.is_file():
            files = [where]
        else:
            continue
        pins[name] = [
            {
                "path": p.relative_to(source).as_posix(),
                "size": p.stat().st_size,
                "sha256": hashlib.sha256(p.read_bytes()).hexdigest(),
            }
            for p in files
        ]
    pinned = _manifest.with_pins(dict(manifest), pins)
    served = {
        urlsplit(f.url).path: (source / f.path).read_bytes() for name in pins for f in pinned[name].files
    }
    pins_file = root / "pins.json"
    pins_file.write_text(json.dumps(pins, indent=1), encoding="utf-8")
    return pins_file, served


def main(argv: list[str] | None = None) -> int:
    from persona.testing.http import FileServer

    parser = argparse.ArgumentParser(prog="python -m persona.testing.mirror")
    parser.add_argument("root")
    args = parser.parse_args(argv)
    pins, served = build_mirror(args.root)
    server = FileServer().start()
    for path, data in served.items():
        server.put(path, data)
    print(json.dumps({"url": server.url, "pins": str(pins)}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
