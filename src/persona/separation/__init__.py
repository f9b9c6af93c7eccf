"""Vocal separation (pymss: BS-RoFormer, Mel-Band-RoFormer, HTDemucs) and the stems cache.

``models`` is the registry (no torch), ``engine`` runs one model over a file in segments,
``cache`` keeps separated stems by song content + settings, ``pipeline.separate_song`` ties them.
"""

from persona.separation.models import CPU_MODEL, DEFAULT_MODEL, MODELS, SeparationModel, get_model

__all__ = ["CPU_MODEL", "DEFAULT_MODEL", "MODELS", "SeparationModel", "get_model"]
