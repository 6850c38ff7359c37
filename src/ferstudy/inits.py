"""Weight initialisations of the study grid (``study.inits``).

``ri``: Xavier-uniform conv/linear weights, orthogonal recurrent weights, zero biases.
``ft``: start from pretrained weights (see ``ferstudy.train.pretrained``), then fine-tune.
"""
from __future__ import annotations

from ferstudy.registry import Registry

INITS = Registry("initialisation")


@INITS.register("ri")
def xavier_init(model) -> None:
    """Random init as in the pitfalls study: Xavier-uniform, orthogonal LSTM, zero bias."""
    from torch import nn

    for module in model.modules():
        if isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.Linear)):
            nn.init.xavier_uniform_(module.weight)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.LSTM, nn.GRU)):
            for name, param in module.named_parameters():
                if "weight_hh" in name:
                    nn.init.orthogonal_(param)
                elif "weight_ih" in name:
                    nn.init.xavier_uniform_(param)
                elif "bias" in name:
                    nn.init.zeros_(param)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


@INITS.register("ft")
def pretrained_init(model) -> None:
    """Marker entry: ``ft`` weights come from a checkpoint; the training engine loads them
    (``ferstudy.train.pretrained.load_pretrained``) after building the model."""
    xavier_init(model)  # new heads and anything the checkpoint lacks start as under ``ri``
