"""A helper the model tests share (not a test module)."""

from __future__ import annotations

import torch
from torch import nn


def randomize(module: nn.Module, seed: int = 0) -> nn.Module:
    """Every parameter random (biases and LayerNorm gains included), so nothing hides at 0/1."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.randn(p.shape, generator=g, dtype=p.dtype) * 0.5)
    return module
