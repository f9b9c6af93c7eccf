"""A training's model into the library: the step between ``train_model`` and the model list.

The trainer knows nothing of the library (it hands its model back in a ``TrainResult``); this
module asks the library whether the name is free before any work starts, and adds the finished
(or stopped-after-a-save) model under that name afterwards. The worker's ``train`` handler and
``persona train`` both train through here.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from persona.library.models import ModelLibrary
from persona.messages import msg
from persona.progress import NEVER_CANCELLED, CancelToken, ProgressFn, null_progress, staged
from persona.settings import Settings
from persona.training.request import STAGES, TrainRequest, TrainResult


def train_into_library(
    settings: Settings,
    request: TrainRequest,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> TrainResult:
    """Train (or resume) ``request.name`` and add the model to the library; the result points
    at the library's files. A new training's name must be free (``model_exists``) before it starts."""
    from persona.library.isolated import start_early
    from persona.training import train_model

    request.validate()
    library = ModelLibrary(settings)
    if not request.resume:
        library.check_new_name(request.name)
    start_early()  # the model's check at the end (after a Stop too) must not wait for its checker
    result = train_model(settings, request, progress, cancel)
    return add_trained(library, request, result, progress, cancel)


def add_trained(
    library: ModelLibrary,
    request: TrainRequest,
    result: TrainResult,
    progress: ProgressFn = null_progress,
    cancel: CancelToken = NEVER_CANCELLED,
) -> TrainResult:
    """Add a training's model to ``library`` (replacing it when the training was resumed)."""
    export = staged(progress, STAGES)("export")
    export("export", 0.9, msg("export_library"))
    cancel.check_owner()  # a superseded run (another attempt owns this job now) adds nothing
    entry = library.add(
        request.name,
        result.model_path,
        result.index_path,
        source="trained",
        metadata=result.metadata,
        replace=request.resume,
    )
    export("export", 1.0, msg("export_library"))
    return dataclasses.replace(
        result,
        model_name=entry.name,
        model_path=Path(entry.pth_path),
        index_path=Path(entry.index_path) if entry.index_path else None,
    )
