"""Training a personal voice model: preprocess, features, GAN training, export, index, report.

Public API: ``TrainRequest``, ``TrainResult``, ``train_model(settings, request, progress, cancel)``.
"""

from persona.training.trainer import TrainRequest, TrainResult, train_model

__all__ = ["TrainRequest", "TrainResult", "train_model"]
