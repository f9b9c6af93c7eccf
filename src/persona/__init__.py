"""Persona: AI song covers in your own voice (RVC-compatible engine, jobs, web app)."""

__version__ = "0.1.0"

# Before anything imports torch: bounds oneDNN's primitive cache (see persona.runtime).
from persona import runtime as _runtime  # noqa: E402, F401
