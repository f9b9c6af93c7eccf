"""Persona: AI song covers in your own voice (RVC-compatible engine, jobs, web app)."""

__version__ = "0.1.0"
