"""Test fixtures in one place: tiny random-weight models and assets in the real file formats.

Used by unit, integration and end-to-end tests and by benchmarks alike. One module per area
(``persona.testing.audio``, ``.rvc``, ``.assets``, ...); nothing here touches the network.
"""
