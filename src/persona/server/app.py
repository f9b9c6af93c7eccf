"""Flask application factory: blueprints per area, Socket.IO, token check, JSON errors, the SPA.

``create_app(settings)`` returns the Flask app; its ``SocketIO`` is ``app.extensions["socketio"]``.
Socket.IO runs in ``threading`` mode (simple-websocket for WebSockets), which gunicorn's threaded
worker serves (see ``persona.server.run``). Nothing is global: two apps on two homes coexist.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, jsonify
from flask_socketio import SocketIO

from persona.catalogue import people
from persona.server import (
    api_account,
    api_admin,
    api_assets,
    api_cover_audio,
    api_covers,
    api_detect,
    api_export,
    api_health,
    api_jobs,
    api_models,
    api_saves,
    api_trainings,
    consent_gate,
    errors,
    events,
    signin,
    spa,
)
from persona.server.front_door import FrontDoor
from persona.server.openapi import build_openapi
from persona.server.proxies import ForwardedFor, TrustedProxies
from persona.server.request_limits import BoundedJSONProvider, largest_request
from persona.server.services import Services
from persona.server.socket_reaper import reap_idle_sessions
from persona.server.socket_watch import SocketWatch
from persona.settings import Settings


def create_app(
    settings: Settings | None = None,
    *,
    web_dist: Path | None | bool = True,
    cors_origins: list[str] | str | None = None,
    socket_capacity: int | None = None,
) -> Flask:
    """Build the app. ``web_dist``: True finds the build, a path uses it, None/False serves none.
    ``socket_capacity``: how many live Socket.IO requests may hold server threads (None: no cap)."""
    settings = settings or Settings.from_env()
    app = Flask("persona.server", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = largest_request(settings)
    app.config["JSON_SORT_KEYS"] = False
    app.json = BoundedJSONProvider(app)  # a JSON body nested too deeply: 400, not a crash
    app.json.ensure_ascii = False
    svc = Services.build(settings)
    app.extensions["persona"] = svc
    people.install(settings)  # account erasure and usage hooks; an older home to the first admin

    # Who is asking (accounts mode) or today's optional token (single-person mode), before any route.
    signin.install(app, settings)
    app.register_blueprint(api_account.blueprint(app, settings))
    for module in (
        api_health,
        api_models,
        api_trainings,
        api_covers,
        api_cover_audio,
        api_jobs,
        api_assets,
        api_saves,
        api_admin,
        api_export,
        api_detect,
        consent_gate,
    ):
        app.register_blueprint(module.bp)
    consent_gate.log_policy(settings)

    @app.get("/api/openapi.json")
    def openapi():
        return jsonify(build_openapi())

    errors.install(app)
    dist = spa.find_web_dist() if web_dist is True else (Path(web_dist) if web_dist else None)
    app.register_blueprint(spa.blueprint(dist))

    socketio = SocketIO(
        app,
        async_mode="threading",
        cors_allowed_origins=cors_origins,
        ping_interval=20,
        max_http_buffer_size=1 << 20,
        message_queue=settings.redis_url,
        channel="persona-socketio",
    )
    app.extensions["persona_socket_watch"] = SocketWatch(socketio, app.extensions["persona_accounts"])
    # In front of engine.io: host/origin, handshake token, socket and upload counts, slow bodies;
    # outermost, the client's own address from a trusted proxy's X-Forwarded-For.
    door = FrontDoor(app.wsgi_app, settings, socket_capacity=socket_capacity)
    refused = reap_idle_sessions(socketio.server, settings.socket_connect_s)

    def allowed_socket(sid: str, namespace: str, environ: dict) -> None:
        door.socket_authorised(socketio.server.manager.eio_sid_from_sid(sid, namespace or "/"), environ)

    app.extensions["persona_broadcaster"] = events.install(
        socketio,
        svc.queue.store,
        settings.token,
        redis_url=settings.redis_url,
        on_refused=refused,
        allowed=lambda auth: signin.socket_allowed(settings, auth),
        on_allowed=allowed_socket,
    )
    app.wsgi_app = door
    proxies = TrustedProxies(settings.trusted_proxies)
    if proxies:
        app.wsgi_app = ForwardedFor(app.wsgi_app, proxies)
    return app
