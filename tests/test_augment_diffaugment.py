"""DiffAugment for clips: same transform for all frames, differentiable, seeded, policy checked."""
import pytest
import torch

from ferstudy.augment.diffaugment import cutout, diff_augment, translation

torch.set_num_threads(1)


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def test_clip_consistent_and_differentiable():
    x = torch.rand(6, 1, 1, 16, 16).repeat(1, 1, 5, 1, 1).requires_grad_(True)
    out = diff_augment(x, "color,translation,cutout", _gen())
    assert out.shape == x.shape
    assert torch.allclose(out, out[:, :, :1].expand_as(out), atol=1e-6)
    out.sum().backward()
    assert x.grad is not None and torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0


def test_translation_and_cutout_sizes():
    x = torch.ones(64, 1, 2, 16, 16)
    cut = cutout(x, _gen(1))
    zeros = (cut[:, 0, 0] == 0).float().sum(dim=(1, 2))
    assert zeros.max() <= 64 and zeros.max() == 64 and (zeros > 0).all()   # an 8x8 square
    dot = torch.zeros(64, 1, 2, 16, 16)
    dot[:, :, :, 8, 8] = 1
    moved = translation(dot, _gen(2))
    pos = moved[:, 0, 0].flatten(1).argmax(1)
    dy, dx = pos // 16 - 8, pos % 16 - 8
    assert dy.abs().max() <= 2 and dx.abs().max() <= 2 and (dy != 0).any()
    assert torch.equal(moved[:, :, 0], moved[:, :, 1])


def test_seeded_and_policy_checked():
    x = torch.rand(4, 1, 3, 16, 16)
    assert torch.equal(diff_augment(x, "color,cutout", _gen(5)), diff_augment(x, "color,cutout", _gen(5)))
    assert torch.equal(diff_augment(x, "", _gen()), x)
    with pytest.raises(ValueError, match="zoom"):
        diff_augment(x, "color,zoom", _gen())
