"""The cover pipeline: a song + a voice model in, the song sung in that voice out.

``make_cover(settings, request, progress, cancel) -> CoverResult`` runs the named stages
decode, separate, convert, mix, encode (see ``pipeline``); ``CoverRequest`` / ``CoverResult`` live
in ``request`` (no torch); the suggested pitch in ``pitch``.
"""

from persona.cover.request import BACKING_MODES, FORMATS, KEY_MODES, CoverRequest, CoverResult


def make_cover(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - thin lazy wrapper, see pipeline.make_cover
    """See ``persona.cover.pipeline.make_cover`` (imported lazily: it pulls in numpy/soundfile)."""
    from persona.cover.pipeline import make_cover as _make_cover

    return _make_cover(*args, **kwargs)


__all__ = ["BACKING_MODES", "FORMATS", "KEY_MODES", "CoverRequest", "CoverResult", "make_cover"]
