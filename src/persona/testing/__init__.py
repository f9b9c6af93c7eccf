"""Test fixtures in one place: tiny random-weight models and assets in the real file formats.

Used by unit, integration and end-to-end tests and by benchmarks alike. One module per area
(``persona.testing.audio``, ``.rvc``, ``.separation``, ...), plus the stand-in job handler
registries (``.jobs``) that ``persona serve|worker --fixture-jobs|--tiny-models`` hand the worker;
production code never imports this package except that composition root (``persona.cli.serve``).
Nothing here touches the network.
"""
