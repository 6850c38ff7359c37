"""Video classifiers: how a backbone is applied to a clip, and the classification head.

Input of every model: ``x`` float ``(B, C, T, H, W)`` in [0, 1]. Output: ``(logits (B, K),
embedding (B, D))``; ``embed_dim == D``. The embedding is what the head sees (t-SNE plots and
the SCN / Ada-CM heads use it). The classifier is always called ``head`` so fine-tuning can
replace it by name.

With ``onset_diff`` the backbone sees, next to each frame, its difference from the clip's
first frame (2C channels): the expression as a change from the subject's own onset (neutral)
face, which removes most identity cues. An inductive bias for small data, off by default.

- ``FrameLSTM``: 2D backbone on every frame -> (B, T, F) -> LSTM -> last hidden state.
- ``Clip3D``: 3D backbone on the whole clip -> pooled (B, F).
- ``WindowLSTM``: 3D backbone on non-overlapping windows of ``window`` frames -> (B, W, F)
  -> LSTM -> last hidden state (short-range motion by 3D convs, long-range by the LSTM).
- ``FrameAverage``: 2D backbone on every frame, frame embeddings averaged over time
  (a frame-level classifier whose logits are the clip average, since the head is linear).
"""
from __future__ import annotations

import torch
from torch import Tensor, nn

from ferstudy.archs.backbones import Backbone


class VideoClassifier(nn.Module):
    """Common head: dropout + linear on the embedding; inputs are normalised to [-1, 1].
    With ``feature_norm`` (Ada-CM's head): dropout -> L2 normalisation -> linear, and the
    embedding returned is that normalised feature."""

    onset_diff = False   # set by the builder: append (frame - first frame) channels
    feature_norm = False  # set by the builder

    def __init__(self, embed_dim: int, num_classes: int, dropout: float = 0.3):
        super().__init__()
        self.embed_dim = embed_dim
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x: Tensor) -> tuple[Tensor, Tensor]:
        if x.dim() != 5:
            raise ValueError(f"expected a clip batch (B, C, T, H, W), got shape {tuple(x.shape)}")
        x = x * 2 - 1
        if self.onset_diff:
            x = torch.cat([x, x - x[:, :, :1]], dim=1)            # (B, 2C, T, H, W)
        emb = self.embed(x)
        if self.feature_norm:
            emb = nn.functional.normalize(self.dropout(emb), dim=1)
            return self.head(emb), emb
        return self.head(self.dropout(emb)), emb

    def embed(self, x: Tensor) -> Tensor:
        raise NotImplementedError


def _frames(x: Tensor) -> tuple[Tensor, int, int]:
    """(B, C, T, H, W) -> (B*T, C, H, W), B, T."""
    b, c, t, h, w = x.shape
    return x.transpose(1, 2).reshape(b * t, c, h, w), b, t


class FrameLSTM(VideoClassifier):
    def __init__(self, backbone: Backbone, num_classes: int, hidden: int):
        super().__init__(hidden, num_classes)
        self.backbone = backbone
        self.lstm = nn.LSTM(backbone.out_dim, hidden, batch_first=True)

    def embed(self, x: Tensor) -> Tensor:
        frames, b, t = _frames(x)
        seq = self.backbone(frames).view(b, t, -1)          # (B, T, F)
        _, (h_n, _) = self.lstm(seq)
        return h_n[-1]                                      # (B, hidden)


class Clip3D(VideoClassifier):
    def __init__(self, backbone: Backbone, num_classes: int):
        super().__init__(backbone.out_dim, num_classes)
        self.backbone = backbone

    def embed(self, x: Tensor) -> Tensor:
        return self.backbone(x)                             # (B, F)


class WindowLSTM(VideoClassifier):
    def __init__(self, backbone: Backbone, num_classes: int, hidden: int, window: int):
        super().__init__(hidden, num_classes)
        self.backbone = backbone
        self.window = window
        self.lstm = nn.LSTM(backbone.out_dim, hidden, batch_first=True)

    def embed(self, x: Tensor) -> Tensor:
        b, c, t, h, w = x.shape
        n = t // self.window
        if n < 1:
            raise ValueError(f"clip of {t} frames is shorter than the {self.window}-frame window")
        # (B, C, n*win, H, W) -> (B*n, C, win, H, W): windows become batch items
        win = x[:, :, : n * self.window].reshape(b, c, n, self.window, h, w)
        win = win.transpose(1, 2).reshape(b * n, c, self.window, h, w)
        seq = self.backbone(win).view(b, n, -1)             # (B, n, F)
        _, (h_n, _) = self.lstm(seq)
        return h_n[-1]                                      # (B, hidden)


class FrameAverage(VideoClassifier):
    def __init__(self, backbone: Backbone, num_classes: int):
        super().__init__(backbone.out_dim, num_classes)
        self.backbone = backbone

    def embed(self, x: Tensor) -> Tensor:
        frames, b, t = _frames(x)
        return self.backbone(frames).view(b, t, -1).mean(1)  # (B, F)
