"""The web service: Flask app factory, REST blueprints, Socket.IO events, production server runner."""

from persona.server.app import create_app

__all__ = ["create_app"]
