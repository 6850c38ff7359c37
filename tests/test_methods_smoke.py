"""Every registered method: one engine-like step (loss, backward, step, after_step, epoch end)
on a tiny model and on a registered architecture; config defaults agree with the schema."""
import contextlib

import numpy as np
import pytest
import torch

from _methods_tiny import TinyVideoNet, clip_batch
from ferstudy.config import load_schema
from ferstudy.methods import METHODS
from ferstudy.methods.base import StepContext, TrainData

torch.set_num_threads(1)


def _one_epoch(name, model, x, ux, autocast=None):
    num_classes = 3
    method = METHODS.get(name)({}, num_classes=num_classes, embed_dim=model.embed_dim)
    n = x.shape[0]
    labels = np.arange(n) % num_classes
    clips = (x.permute(0, 2, 3, 4, 1) * 255).to(torch.uint8).numpy()
    method.prepare(TrainData(labels=labels, intensity=np.linspace(1, 0, n),
                             clean_labels=labels, clips=clips))
    opt = torch.optim.Adam(list(model.parameters()) + list(method.heads.parameters()), 1e-3)
    g = torch.Generator().manual_seed(0)
    ctx = StepContext(epoch=0, device=torch.device("cpu"), optimizer=opt, generator=g,
                      augment=lambda v, s: v.flip(-1) if s == "weak" else v.flip(-1).flip(-2),
                      log=lambda m: None)
    pool = method.train_indices(0, n)
    assert len(pool) > 0
    batch = {"x": x[pool], "y": torch.as_tensor(labels[pool]), "index": torch.as_tensor(pool)}
    if method.needs_unlabelled:
        batch["ux"] = ux
    model.train()
    with autocast or contextlib.nullcontext():
        loss, logs = method.loss(model, batch, ctx)
    assert torch.isfinite(loss) and loss.dtype == torch.float32 and "acc" in logs
    opt.zero_grad()
    loss.backward()
    grads = [p.grad for p in model.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(gr).all() for gr in grads)
    opt.step()
    method.after_step(model)
    method.on_epoch_end(0, {"val_acc": 0.5, "val_loss": 1.0}, ctx)
    evaluated = method.eval_model(model).eval()
    with torch.no_grad():
        logits, emb = evaluated(x)
    assert logits.shape == (n, num_classes) and torch.isfinite(logits).all()
    fresh = METHODS.get(name)({}, num_classes=num_classes, embed_dim=model.embed_dim)
    fresh.load_state_dict(method.state_dict())


@pytest.mark.parametrize("name", METHODS.names())
def test_method_step_tiny_model(name):
    torch.manual_seed(0)
    _one_epoch(name, TinyVideoNet(), clip_batch(6), clip_batch(6, seed=1))


@pytest.mark.parametrize("name", METHODS.names())
def test_method_step_bf16_autocast(name):
    """What CUDA runs with train.amp bf16, on CPU: every method's loss under autocast."""
    torch.manual_seed(0)
    _one_epoch(name, TinyVideoNet(), clip_batch(6), clip_batch(6, seed=1),
               autocast=torch.autocast("cpu", dtype=torch.bfloat16))


def _small_arch():
    from ferstudy.archs import ARCHS

    if not len(ARCHS):
        pytest.skip("no architecture registered yet (ferstudy.archs)")
    name = ARCHS.names()[0]
    return ARCHS.get(name)(num_classes=3, in_channels=1, frames=8, size=32, width=0.25)


@pytest.mark.parametrize("name", METHODS.names())
def test_method_step_registered_arch(name):
    torch.manual_seed(0)
    model = _small_arch()
    _one_epoch(name, model, clip_batch(4, t=8, size=32), clip_batch(4, t=8, size=32, seed=1))


@pytest.mark.parametrize("name", ["curriculum", "scn", "adacm"])
def test_defaults_match_schema(name):
    block = load_schema()["properties"]["methods"]["properties"][name]["properties"]
    assert {k: v["default"] for k, v in block.items()} == METHODS.get(name).DEFAULTS
    assert all(v.get("description") for v in block.values())
