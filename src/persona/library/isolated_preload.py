"""Imported by ``persona.library.isolated``'s forkserver before it forks any checker: brings in
torch and the checks and runs them once on a tiny synthetic model (``voice_model.warm_up``), so
every forked child starts with PyTorch's lazily loaded machinery in place (~0.15 s of CPU per
check instead of ~1.2 s). Importing this module has that effect on purpose; nothing else does."""

from __future__ import annotations

from persona.library import validate  # noqa: F401 - the checks the children run
from persona.rvc import index_file  # noqa: F401
from persona.rvc.voice_model import warm_up

warm_up()
