"""Slow clients cannot starve a live `persona serve` (gunicorn gthread, 64 threads; issue 24 item 3).

Quick versions of the attacks that `benchmarks/bench_slow_clients.py` measures: more connections
sending headers one line at a time than there are threads (with a token, from one address and
from many), and more slow but legal uploads than there are threads (a token holder from one
address, no token from many). Meanwhile an authorised request is answered; refused uploads get
the error object. The header deadline is long here (60 s), so a server that gave each slow
connection a thread would not answer within the requests' generous timeouts.
"""

from __future__ import annotations

import pytest
import requests

from persona.testing.home import live_server, wait_for
from persona.testing.slow_clients import SlowHeaders, SlowUploads

TOKEN = "slow-token"
THREADS = 64  # persona serve's default
LIMITS = {
    "PERSONA_HEADER_TIMEOUT_S": "60",
    "PERSONA_UPLOAD_GRACE_S": "60",
    "PERSONA_UPLOAD_MIN_BYTES_PER_S": "1024",
    "PERSONA_UPLOADS_PER_CLIENT": "4",
    "PERSONA_UPLOADS_AT_ONCE": "16",
}
TIMEOUT = 30  # against hangs, not a timing assertion


@pytest.fixture(scope="module")
def token_server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("slowtok"), token=TOKEN, env=LIMITS) as (base, _):
        yield base, int(base.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def open_server(tmp_path_factory):
    with live_server(tmp_path_factory.mktemp("slowopen"), env=LIMITS) as (base, _):
        yield base, int(base.rsplit(":", 1)[1])


def _health(base: str, token: str | None = TOKEN) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(f"{base}/api/health", headers=headers, timeout=TIMEOUT).status_code


def _upload(base: str, source: str = "127.0.0.1", token: str | None = TOKEN) -> dict:
    from requests.adapters import HTTPAdapter

    class _From(HTTPAdapter):  # send from a chosen local address (127.0.0.x)
        def init_poolmanager(self, *args, **kwargs):
            kwargs["source_address"] = (source, 0)
            super().init_poolmanager(*args, **kwargs)

    with requests.Session() as session:
        session.mount("http://", _From())
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        r = session.post(
            f"{base}/api/models/upload",
            headers=headers,
            files={"file": ("m.zip", b"PK" + bytes(300_000))},  # more than the head's first read
            timeout=TIMEOUT,
        )
        return {"status": r.status_code, **r.json()["error"]}


@pytest.mark.parametrize("sources", [1, 10])
def test_slow_headers_hold_no_thread(token_server, sources):
    """THREADS + 16 connections send a header line every 0.5 s (no token needed for that)."""
    base, port = token_server
    with SlowHeaders("127.0.0.1", port, n=THREADS + 16, every_s=0.5, sources=sources) as attack:
        wait_for(lambda: attack.opened >= THREADS + 16, timeout=TIMEOUT)
        for _ in range(3):
            assert _health(base) == 200
        if sources == 1:  # one address may keep only pending_per_client (32) of them waiting
            wait_for(lambda: attack.closed > 0, timeout=TIMEOUT)
    assert _health(base) == 200


def test_slow_uploads_of_a_token_holder_are_bounded_per_address(token_server):
    base, port = token_server
    with SlowUploads("127.0.0.1", port, n=THREADS + 6, rate=20 * 1024, token=TOKEN) as attack:
        wait_for(lambda: attack.opened >= THREADS + 6, timeout=TIMEOUT)
        assert _health(base) == 200
        refused = _upload(base, source="127.0.0.2")  # the attacker's address
        assert refused["status"] == 429 and refused["code"] == "too_many_uploads"
        assert refused["params"] == {"max": 4}
        assert _upload(base)["code"] != "too_many_uploads"  # another address
        assert _health(base) == 200


def test_slow_uploads_from_many_addresses_hold_no_thread(open_server):
    """70 slow uploads from 30 addresses (within the per-address bound) are spooled by the event
    loop, as nginx would: health answers, and so does an honest upload (the app's own verdict)."""
    base, port = open_server
    with SlowUploads("127.0.0.1", port, n=THREADS + 6, rate=20 * 1024, sources=30) as attack:
        wait_for(lambda: attack.opened >= THREADS + 6, timeout=TIMEOUT)
        assert _health(base, None) == 200
        honest = _upload(base, source="127.0.0.99", token=None)
        assert honest["status"] == 400 and honest["code"] not in ("uploads_busy", "too_many_uploads")
        assert _health(base, None) == 200
        assert attack.closed == 0  # none of them was refused or cut: they keep the pace


def test_bodies_a_thread_reads_are_counted_per_address_and_in_all():
    """Bodies the loop does not spool (chunked, Expect) are counted by the front door."""
    from persona.server.front_door import Slots

    slots = Slots(per_client=2, total=3)
    assert slots.take("a") is None and slots.take("a") is None
    refused = slots.take("a")
    assert refused.status == 429 and refused.code == "too_many_uploads" and refused.params == {"max": 2}
    assert slots.take("b") is None
    busy = slots.take("c")
    assert busy.status == 503 and busy.code == "uploads_busy" and busy.params == {"max": 3}
    slots.give_back("a")
    assert slots.take("c") is None


def test_the_loop_spools_only_bodies_it_can_read_whole():
    from persona.server.intake import body_length

    head = b"POST /api/x HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n"
    assert body_length(head + b"abc") == (len(head), 12)
    for other in (b"Transfer-Encoding: chunked", b"Expect: 100-continue", b"Content-Length: 5"):
        mixed = head.replace(b"Host: h", b"Host: h\r\n" + other)
        assert body_length(mixed) is None  # a thread reads it, under the front door's counts
    assert body_length(head.replace(b"12", b"-1")) is None
    assert body_length(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n") is None
