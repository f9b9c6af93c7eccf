"""RVC's model-file vocabulary, stated once: sample-rate names and feature widths per version.

A model's ``sr`` is ``"32k"``, ``"40k"`` or ``"48k"`` (RVC's ``sr2sr``); its ``version`` fixes
the width of the content features it takes and its index holds (v1 256, v2 768). The engine,
training, the library's checks and the server's forms read them here. Light: no torch.
"""

from __future__ import annotations

SR2SR: dict[str, int] = {"32k": 32000, "40k": 40000, "48k": 48000}
FEATURE_DIMS: dict[str, int] = {"v1": 256, "v2": 768}
