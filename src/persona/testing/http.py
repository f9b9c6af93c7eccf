"""A tiny threaded HTTP file server on 127.0.0.1 for download tests (no network needed).

Serves files from a dict of ``url path -> bytes`` (add with ``put``), honours ``Range``
(``bytes=a-`` and ``bytes=a-b``; 416 past the end), and can misbehave on request:
``drop_after[path] = n`` closes the connection after ``n`` body bytes (``drop_times`` limits how
often), ``ignore_range`` answers 200 with the whole file, ``extra_headers`` adds headers
(e.g. ``X-Linked-Etag``). Every request is logged in ``requests`` as ``(path, range header)``.

    with FileServer() as server:
        server.put("/lj1995/VoiceConversionWebUI/resolve/main/rmvpe.pt", data)
        settings = settings.replace(asset_base_url=server.url)
"""

from __future__ import annotations

import re
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class FileServer:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.drop_after: dict[str, int] = {}
        self.drop_times: dict[str, int] = {}  # path -> how many more requests get dropped (default 1)
        self.ignore_range = False
        self.extra_headers: dict[str, dict[str, str]] = {}
        self.requests: list[tuple[str, str | None]] = []
        self._lock = threading.Lock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------------------- control

    def put(self, path: str, data: bytes, headers: dict[str, str] | None = None) -> str:
        """Serve ``data`` at ``path`` (leading slash added); returns the full URL."""
        path = "/" + path.lstrip("/")
        self.files[path] = data
        if headers:
            self.extra_headers[path] = headers
        return self.url + path

    def drop(self, path: str, after: int, times: int = 1) -> None:
        """Close the connection after ``after`` body bytes, for the next ``times`` requests."""
        path = "/" + path.lstrip("/")
        self.drop_after[path] = after
        self.drop_times[path] = times

    @property
    def url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("server not started")
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FileServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_HEAD(self) -> None:
                self._serve(body=False)

            def do_GET(self) -> None:
                self._serve(body=True)

            def _serve(self, body: bool) -> None:
                path = urlsplit(self.path).path
                rng = self.headers.get("Range")
                with server._lock:
                    server.requests.append((path, rng))
                    data = server.files.get(path)
                    drop = None
                    if body and path in server.drop_after and server.drop_times.get(path, 1) > 0:
                        drop = server.drop_after[path]
                        server.drop_times[path] = server.drop_times.get(path, 1) - 1
                if data is None:
                    self.send_response(404)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                size = len(data)
                start, end = 0, size - 1
                status = 200
                m = re.match(r"bytes=(\d+)-(\d*)$", rng or "")
                if m and not server.ignore_range:
                    start = int(m.group(1))
                    if m.group(2):
                        end = min(int(m.group(2)), size - 1)
                    if start >= size:
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{size}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    status = 206
                chunk = data[start : end + 1]
                self.send_response(status)
                self.send_header("Content-Length", str(len(chunk)))
                self.send_header("Accept-Ranges", "bytes")
                if status == 206:
                    self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
                for k, v in server.extra_headers.get(path, {}).items():
                    self.send_header(k, v)
                self.end_headers()
                if not body:
                    return
                if drop is not None:
                    self.wfile.write(chunk[:drop])
                    self.wfile.flush()
                    try:
                        self.connection.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                    self.close_connection = True
                    return
                self.wfile.write(chunk)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="test-file-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
