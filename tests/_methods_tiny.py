"""Shared helpers of the methods tests: a tiny video model honouring the archs contract."""
import torch
from torch import nn


class TinyVideoNet(nn.Module):
    """x (B, C, T, H, W) in [0, 1] -> (logits (B, K), embedding (B, D))."""

    def __init__(self, num_classes=3, in_channels=1, embed_dim=8):
        super().__init__()
        self.embed_dim = embed_dim
        self.features = nn.Sequential(nn.Conv3d(in_channels, 4, 3, padding=1),
                                      nn.BatchNorm3d(4), nn.ReLU(),
                                      nn.AdaptiveAvgPool3d(1), nn.Flatten(),
                                      nn.Linear(4, embed_dim), nn.ReLU())
        self.head = nn.Linear(embed_dim, num_classes)

    def forward(self, x):
        emb = self.features(x)
        return self.head(emb), emb


def clip_batch(b=6, c=1, t=4, size=12, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(b, c, t, size, size, generator=g)
