"""Clip-consistent DA: same transform per clip, ranges respected, identity, determinism."""
import math

import pytest
import torch

from ferstudy.augment.affine import clip_affine
from ferstudy.augment.views import augment_view, strong_view, weak_view

torch.set_num_threads(1)
ZERO = {"rotation_deg": 0.0, "translate_frac": 0.0, "scale_range": [1.0, 1.0], "flip": False,
        "brightness": 0.0, "contrast": 0.0}
S = 48


def _gen(seed=0):
    return torch.Generator().manual_seed(seed)


def _blob(cy, cx, size=S, sigma=1.5):
    ys, xs = torch.meshgrid(torch.arange(size) + 0.5, torch.arange(size) + 0.5, indexing="ij")
    return torch.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / (2 * sigma ** 2))


def _centroid(img):
    ys, xs = torch.meshgrid(torch.arange(img.shape[-2]) + 0.5, torch.arange(img.shape[-1]) + 0.5,
                            indexing="ij")
    w = img / img.sum()
    return float((w * ys).sum()), float((w * xs).sum())


def _clips_of(img, b=64, t=4):
    return img.reshape(1, 1, 1, *img.shape).repeat(b, 1, t, 1, 1).contiguous()


def test_identity_when_all_ranges_zero():
    x = torch.rand(3, 1, 5, S, S)
    out = clip_affine(x, _gen(), ZERO)
    assert out.shape == x.shape
    assert torch.allclose(out, x, atol=1e-5)


def test_frames_of_a_clip_get_the_same_transform():
    # identical frames stay identical, and distinct frames are warped as if alone
    x = torch.rand(8, 1, 1, S, S).repeat(1, 1, 6, 1, 1)
    out = clip_affine(x, _gen(1), {"rotation_deg": 20, "translate_frac": 0.1, "brightness": 0.2,
                                  "contrast": 0.2})
    assert not torch.allclose(out, x, atol=1e-3)
    assert torch.allclose(out, out[:, :, :1].expand_as(out), atol=1e-6)
    params = {"rotation_deg": 20, "translate_frac": 0.1, "brightness": 0.0, "contrast": 0.0}
    a, b = torch.rand(8, 1, 1, S, S), torch.rand(8, 1, 1, S, S)
    both = clip_affine(torch.cat([a, b], dim=2), _gen(2), params)
    alone = clip_affine(torch.cat([b, b], dim=2), _gen(2), params)
    assert torch.allclose(both[:, :, 1], alone[:, :, 0], atol=1e-6)
    # the same clip repeated in a batch gets a different draw in each slot
    same = clip_affine(a[:1].repeat(4, 1, 3, 1, 1), _gen(3), params)
    assert (same[0] - same[1]).abs().max() > 1e-2


def test_rotation_range_respected():
    r = 15.0
    img = _blob(S / 2 - 14, S / 2)                  # a dot straight above the centre
    out = clip_affine(_clips_of(img), _gen(3), {**ZERO, "rotation_deg": r})
    angles = []
    for clip in out:
        cy, cx = _centroid(clip[0, 0])
        angles.append(math.degrees(math.atan2(cx - S / 2, S / 2 - cy)))
        assert _centroid(clip[0, -1]) == pytest.approx((cy, cx), abs=1e-4)
    assert max(abs(a) for a in angles) <= r + 0.5
    assert max(angles) > 0.6 * r and min(angles) < -0.6 * r     # the range is actually used


def test_translation_and_scale_ranges_respected():
    f = 0.1
    img = _blob(S / 2, S / 2)
    out = clip_affine(_clips_of(img), _gen(4), {**ZERO, "translate_frac": f})
    shifts = torch.tensor([_centroid(c[0, 0]) for c in out]) - S / 2
    assert shifts.abs().max() <= f * S + 0.3
    assert shifts.abs().max() > 0.6 * f * S
    off = _blob(S / 2, S / 2 + 12)
    out = clip_affine(_clips_of(off), _gen(5), {**ZERO, "scale_range": [0.8, 1.2]})
    dist = torch.tensor([_centroid(c[0, 0])[1] for c in out]) - S / 2
    assert dist.min() >= 0.8 * 12 - 0.3 and dist.max() <= 1.2 * 12 + 0.3
    assert dist.max() - dist.min() > 0.2 * 12


def test_flip_mirrors_whole_clips_and_jitter_bounded():
    x = torch.rand(32, 1, 3, S, S)
    out = clip_affine(x, _gen(6), {**ZERO, "flip": True})
    flipped = [bool(torch.allclose(o, xi.flip(-1), atol=1e-5)) for o, xi in zip(out, x)]
    kept = [bool(torch.allclose(o, xi, atol=1e-5)) for o, xi in zip(out, x)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 4 <= sum(flipped) <= 28
    x = torch.full((32, 1, 2, S, S), 0.5)
    out = clip_affine(x, _gen(7), {**ZERO, "brightness": 0.1})
    delta = (out - x)[:, 0, 0, 0, 0]
    assert delta.abs().max() <= 0.1 + 1e-6 and delta.abs().max() > 0.05
    assert out.min() >= 0 and out.max() <= 1


def test_deterministic_under_the_generator():
    x = torch.rand(4, 1, 3, S, S)
    p = {"rotation_deg": 10}
    assert torch.equal(clip_affine(x, _gen(9), p), clip_affine(x, _gen(9), p))
    assert not torch.equal(clip_affine(x, _gen(9), p), clip_affine(x, _gen(10), p))
    assert torch.equal(strong_view(x, _gen(9)), strong_view(x, _gen(9)))


@pytest.mark.parametrize("strength", ["weak", "strong"])
def test_views_are_clip_consistent(strength):
    x = torch.rand(16, 1, 1, S, S).repeat(1, 1, 4, 1, 1)
    out = augment_view(x, strength, _gen(11))
    assert out.shape == x.shape and out.min() >= 0 and out.max() <= 1
    assert torch.allclose(out, out[:, :, :1].expand_as(out), atol=1e-6)
    assert not torch.allclose(out, x, atol=1e-3)
    with pytest.raises(ValueError, match="strength"):
        augment_view(x, "medium", _gen())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
def test_runs_on_cuda_with_a_cpu_generator():
    x = torch.rand(4, 1, 3, S, S)
    cpu = clip_affine(x, _gen(12), {"rotation_deg": 10})
    gpu = clip_affine(x.cuda(), _gen(12), {"rotation_deg": 10})
    assert torch.allclose(cpu, gpu.cpu(), atol=1e-4)
    assert weak_view(x.cuda(), _gen()).is_cuda
