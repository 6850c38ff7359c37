"""Ada-CM: EMA formula, adaptive thresholds (move with confidence, 0.8 floor), loss routing."""
import copy
import math

import numpy as np
import pytest
import torch
from torch.nn import functional as F

from _methods_tiny import TinyVideoNet, clip_batch
from ferstudy.methods import METHODS
from ferstudy.methods.adacm import adaptive_thresholds, contrastive_loss, ema_update
from ferstudy.methods.base import StepContext, TrainData

torch.set_num_threads(1)


def _adacm(**cfg):
    return METHODS.get("adacm")(cfg, num_classes=3, embed_dim=8)


def _ctx(epoch=0, opt=None):
    g = torch.Generator().manual_seed(0)

    def augment(x, strength):   # a real perturbation so the views differ
        scale = 0.05 if strength == "weak" else 0.2
        return (x + scale * torch.randn(x.shape, generator=g)).clamp(0, 1)

    return StepContext(epoch=epoch, device=torch.device("cpu"), optimizer=opt,
                       augment=augment, log=lambda m: None)


def test_ema_update_matches_formula_params_and_buffers():
    torch.manual_seed(0)
    student, teacher = TinyVideoNet(), TinyVideoNet()
    student(clip_batch())                      # moves BatchNorm running stats
    before = copy.deepcopy(teacher.state_dict())
    ema_update(teacher, student, 0.9)
    for key, t in teacher.state_dict().items():
        s = student.state_dict()[key]
        if t.dtype.is_floating_point:
            assert torch.allclose(t, 0.9 * before[key] + 0.1 * s), key
        else:
            assert torch.equal(t, s), key


def test_after_step_decay_with_and_without_warmup():
    torch.manual_seed(0)
    for warmup, expected in ((True, [min(0.999, (1 + t) / (10 + t)) for t in range(3)]),
                             (False, [0.999] * 3)):
        m = _adacm(ema_warmup=warmup, student_decay=0.0)
        model = TinyVideoNet()
        teacher = m.eval_model(model)
        assert teacher is not model
        for t in range(3):
            with torch.no_grad():
                for p in model.parameters():
                    p.add_(0.1)
            old = copy.deepcopy(teacher.head.weight)
            assert m.ema_decay_now() == pytest.approx(expected[t])
            m.after_step(model)
            d = expected[t]
            assert torch.allclose(teacher.head.weight, d * old + (1 - d) * model.head.weight)


def test_thresholds_formula_floor_and_motion():
    targets = torch.tensor([0, 0, 1, 1, 2])
    probs = torch.tensor([[0.99, 0.005, 0.005], [0.97, 0.02, 0.01],   # class 0: right, 0.98
                          [0.1, 0.9, 0.0], [0.6, 0.4, 0.0],           # class 1: one right, 0.9
                          [0.5, 0.5, 0.0]])                           # class 2: never right
    t1 = adaptive_thresholds(probs, targets, 1, num_classes=3)
    assert t1.tolist() == [0.8, 0.8, 0.8]      # 0.97 * 0.98 * sigmoid(1) = 0.695 -> floor
    t5 = adaptive_thresholds(probs, targets, 5, num_classes=3)
    ramp = 1 / (1 + math.exp(-5))
    assert t5 == pytest.approx([0.97 * 0.98 * ramp, 0.97 * 0.9 * ramp, 0.8])
    less_sure = probs.clone()
    less_sure[0] = torch.tensor([0.85, 0.1, 0.05])
    assert adaptive_thresholds(less_sure, targets, 5, num_classes=3)[0] < t5[0]


def test_on_epoch_end_uses_teacher_confidence_on_labelled_clips():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    clips = rng.integers(0, 256, (12, 4, 12, 12, 1), dtype=np.uint8)
    labels = np.array([0, 1, 2, -1] * 3)
    m = _adacm()
    model = TinyVideoNet()
    m.prepare(TrainData(labels=labels, clips=clips))
    teacher = m.eval_model(model)
    x = torch.from_numpy(clips).permute(0, 4, 1, 2, 3).float() / 255
    labelled = labels >= 0
    with torch.no_grad():      # a teacher sure of class 0 everywhere: right on class 0 only
        teacher.head.weight.zero_()
        teacher.head.bias.copy_(torch.tensor([8.0, 0.0, 0.0]))
    m.on_epoch_end(4, {}, _ctx())
    p0 = torch.softmax(teacher(x[labelled])[0], 1)[:, 0].max().item()
    ramp = 1 / (1 + math.exp(-5))
    assert m.thresholds[0] == pytest.approx(max(0.8, 0.97 * p0 * ramp), rel=1e-5)
    assert m.thresholds[0] > 0.9 and m.thresholds[1] == m.thresholds[2] == 0.8
    with torch.no_grad():
        teacher.head.bias.copy_(torch.tensor([2.0, 0.0, 0.0]))   # less confident teacher
    m.on_epoch_end(4, {}, _ctx())
    assert m.thresholds[0] == 0.8                               # floor
    assert set(m.epoch_logs()) >= {"threshold_0", "confident_frac"}


def test_contrastive_loss_matches_supcon_definition():
    torch.manual_seed(0)
    z1, z2 = F.normalize(torch.randn(5, 8), dim=1), F.normalize(torch.randn(5, 8), dim=1)
    z = torch.cat([z1, z2])
    sim = z @ z.t() / 0.07
    ref = 0.0
    for i in range(10):
        others = [j for j in range(10) if j != i]
        pos = (i + 5) % 10
        ref += -(sim[i, pos] - torch.logsumexp(sim[i, others], 0))
    assert contrastive_loss(z1, z2, 0.07).item() == pytest.approx(ref.item() / 10, rel=1e-5)
    assert contrastive_loss(z1, z1, 0.07) < contrastive_loss(z1, z2, 0.07)


def test_confident_clips_get_pseudo_label_loss_others_contrastive():
    torch.manual_seed(0)
    model = TinyVideoNet()
    batch = {"x": clip_batch(4), "y": torch.tensor([0, 1, 2, 0]), "index": torch.arange(4),
             "ux": clip_batch(4, seed=1)}
    m = _adacm()
    m.thresholds[:] = 0.0                      # everything confident: no contrastive term
    _, logs = m.loss(model, batch, _ctx())
    assert logs["mask"] == 1.0 and logs["loss_c"] == 0.0 and logs["loss_u"] > 0
    m.thresholds[:] = 1.01                     # nothing confident: no pseudo-label term
    loss, logs = m.loss(model, batch, _ctx())
    assert logs["mask"] == 0.0 and logs["loss_u"] == 0.0 and logs["loss_c"] > 0
    assert loss.item() == pytest.approx(0.5 * logs["loss_s"] + 0.1 * logs["loss_c"], rel=1e-5)


def test_official_head_dropout_then_normalised_feature_then_linear():
    from ferstudy.archs import build_model

    opts = METHODS.get("adacm").arch_options({})
    assert opts == {"head_dropout": 0.5, "feature_norm": True}
    assert METHODS.get("adacm").arch_options({"head": "shared"}) == {}
    assert METHODS.get("supervised").arch_options({}) == {}
    torch.manual_seed(0)
    model = build_model("resnet2d_lstm", num_classes=3, in_channels=1, frames=4, size=32,
                        width=0.125, **opts).eval()
    assert model.dropout.p == 0.5
    logits, emb = model(clip_batch(3, t=4, size=32))
    assert torch.allclose(emb.norm(dim=1), torch.ones(3), atol=1e-5)
    assert torch.allclose(logits, model.head(emb), atol=1e-6)
    plain = build_model("resnet2d_lstm", num_classes=3, in_channels=1, frames=4, size=32,
                        width=0.125).eval()
    plain.load_state_dict(model.state_dict())           # same tensors: ft loads either way
    assert plain.dropout.p == 0.3
    assert not torch.allclose(plain(clip_batch(3, t=4, size=32))[1].norm(dim=1), torch.ones(3))


def test_ema_is_constant_by_default_warmup_is_an_option():
    m = _adacm()
    for steps in (0, 10, 500):
        m.steps = steps
        assert m.ema_decay_now() == 0.999
    m = _adacm(ema_warmup=True)
    m.steps = 0
    assert m.ema_decay_now() == pytest.approx(0.1)


def test_strong_view_is_randaugment_then_weak():
    from ferstudy.augment.views import strong_view, weak_view
    from ferstudy.augment.randaugment import rand_augment

    x = clip_batch(4, c=3, t=3, size=16)
    got = strong_view(x, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)
    want = weak_view(rand_augment(x, g, n_ops=3, magnitude=5.0), g)
    g = torch.Generator().manual_seed(5)
    other = rand_augment(weak_view(x, g), g, n_ops=3, magnitude=5.0)
    assert torch.equal(got, want) and not torch.equal(got, other)


def test_thresholds_are_measured_on_weak_views_of_labelled_clips():
    torch.manual_seed(0)
    model = TinyVideoNet()
    m = _adacm()
    clips = (np.random.default_rng(0).random((6, 4, 12, 12, 1)) * 255).astype(np.uint8)
    m.prepare(TrainData(labels=np.array([0, 1, 2, -1, -1, 0]), clips=clips, classes=("a", "b", "c")))
    m._teacher_of(model)
    seen = []

    def augment(x, strength):
        seen.append((strength, x.shape[0]))
        return x

    probs, targets = m._labelled_predictions(torch.device("cpu"), augment)
    assert seen == [("weak", 4)] and targets.tolist() == [0, 1, 2, 0] and probs.shape == (4, 3)
