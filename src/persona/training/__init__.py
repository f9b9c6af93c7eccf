"""Training a personal voice model: preprocess, features, GAN training, export, index, report.

Public API: ``TrainRequest``, ``TrainResult`` (in ``request``: no torch, so the server can check
a request), ``train_model(settings, request, progress, cancel)`` (``trainer``, imported lazily).
"""

from persona.training.request import TrainRequest, TrainResult


def train_model(*args, **kwargs):  # noqa: ANN002, ANN003, ANN201 - thin lazy wrapper, see trainer.train_model
    """See ``persona.training.trainer.train_model`` (imported lazily: it pulls in torch)."""
    from persona.training.trainer import train_model as _train_model

    return _train_model(*args, **kwargs)


__all__ = ["TrainRequest", "TrainResult", "train_model"]
