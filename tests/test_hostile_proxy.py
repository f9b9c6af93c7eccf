"""X-Forwarded-For is believed only from trusted proxies (issue 24 item 4): a client that sends
its own header cannot choose the address every per-address limit counts."""

from __future__ import annotations

import pytest

from persona.errors import PersonaError
from persona.server.proxies import ForwardedFor, TrustedProxies
from persona.settings import Settings


def _seen(proxies: TrustedProxies, peer: str, xff: str | None = None, proto: str | None = None) -> tuple:
    got = {}

    def app(environ, start_response):
        got.update(addr=environ["REMOTE_ADDR"], scheme=environ["wsgi.url_scheme"])
        start_response("200 OK", [])
        return [b""]

    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", "REQUEST_METHOD": "GET", "PATH_INFO": "/"}
    if xff is not None:
        environ["HTTP_X_FORWARDED_FOR"] = xff
    if proto is not None:
        environ["HTTP_X_FORWARDED_PROTO"] = proto
    ForwardedFor(app, proxies)(environ, lambda *a: None)
    return got["addr"], got["scheme"]


def test_only_a_trusted_peer_sets_the_client_address():
    proxies = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert _seen(proxies, "127.0.0.1", "203.0.113.7", "https") == ("203.0.113.7", "https")
    assert _seen(proxies, "10.1.2.3", "203.0.113.7") == ("203.0.113.7", "http")
    # anyone else: the headers are ignored, whatever they claim
    assert _seen(proxies, "198.51.100.9", "127.0.0.1", "https") == ("198.51.100.9", "http")
    assert _seen(TrustedProxies([]), "127.0.0.1", "203.0.113.7") == ("127.0.0.1", "http")


def test_a_client_cannot_smuggle_an_address_through_the_proxy():
    """nginx appends the address it saw: the client's own entries to the left are not taken."""
    proxies = TrustedProxies(["127.0.0.1"])
    assert _seen(proxies, "127.0.0.1", "1.2.3.4, 203.0.113.7")[0] == "203.0.113.7"
    # a chain of trusted proxies is walked (nginx's real_ip_recursive), stopping at the first stranger
    chained = TrustedProxies(["127.0.0.1", "10.0.0.0/8"])
    assert _seen(chained, "127.0.0.1", "1.2.3.4, 203.0.113.7, 10.0.0.5")[0] == "203.0.113.7"


def test_ipv4_mapped_and_bad_entries():
    proxies = TrustedProxies(["127.0.0.1"])
    assert proxies.trusts("::ffff:127.0.0.1") and not proxies.trusts("not an address")
    with pytest.raises(PersonaError) as info:
        TrustedProxies(["127.0.0.1", "nginx.local"])
    assert info.value.code == "trusted_proxies_invalid" and info.value.params == {"entry": "nginx.local"}


def test_the_setting_comes_from_the_environment():
    s = Settings.from_env({"PERSONA_TRUSTED_PROXIES": "127.0.0.1, 10.0.0.0/8"})
    assert s.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
