"""Weight-normalised convolutions that keep RVC's parameter names.

RVC wraps convolutions in the legacy ``torch.nn.utils.weight_norm`` hook, so its checkpoints hold
``<name>.weight_g`` / ``<name>.weight_v``; Applio's newer exports hold
``<name>.parametrizations.weight.original0`` / ``original1`` instead. These modules store
``weight_g``/``weight_v`` directly (same registration order as the hook: ``bias`` first) and
compute ``weight = g * v / ||v||`` (norm over every dim but 0) with the same kernel
(``torch._weight_norm``) on each call, so numerics equal RVC's. ``canonical_weight_names`` maps
the parametrization names onto ours when a state dict is loaded.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

_PARAM_G = ".parametrizations.weight.original0"
_PARAM_V = ".parametrizations.weight.original1"


def _norm_except_dim0(v: torch.Tensor) -> torch.Tensor:
    return torch.norm_except_dim(v, 2, 0)


class _WeightNormMixin:
    """Replace ``weight`` by ``weight_g`` (magnitude) and ``weight_v`` (direction)."""

    def _split_weight(self) -> None:
        weight = self._parameters.pop("weight")  # type: ignore[attr-defined]
        data = weight.detach()
        self.weight_g = nn.Parameter(_norm_except_dim0(data).clone())
        self.weight_v = nn.Parameter(data.clone())

    def normalized_weight(self) -> torch.Tensor:
        return torch._weight_norm(self.weight_v, self.weight_g, 0)  # type: ignore[attr-defined]


class WNConv1d(_WeightNormMixin, nn.Conv1d):
    """``weight_norm(nn.Conv1d(...))`` with RVC's state-dict names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.normalized_weight(), self.bias)


class WNConv2d(_WeightNormMixin, nn.Conv2d):
    """``weight_norm(nn.Conv2d(...))`` with RVC's state-dict names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._conv_forward(x, self.normalized_weight(), self.bias)


class WNConvTranspose1d(_WeightNormMixin, nn.ConvTranspose1d):
    """``weight_norm(nn.ConvTranspose1d(...))`` with RVC's state-dict names."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._split_weight()

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return F.conv_transpose1d(
            x,
            self.normalized_weight(),
            self.bias,
            self.stride,
            self.padding,
            self.output_padding,
            self.groups,
            self.dilation,
        )


def canonical_weight_names(state: Mapping[str, Any]) -> dict[str, Any]:
    """Rename Applio's ``parametrizations.weight.original0/1`` keys to ``weight_g/weight_v``.

    Keeps key order; other keys pass through unchanged.
    """
    out: dict[str, Any] = {}
    for key, value in state.items():
        if key.endswith(_PARAM_G):
            key = key[: -len(_PARAM_G)] + ".weight_g"
        elif key.endswith(_PARAM_V):
            key = key[: -len(_PARAM_V)] + ".weight_v"
        out[key] = value
    return out
