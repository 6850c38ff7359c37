"""Self-Cure Network: rank regularisation, relabelling margin test, persistence, logging."""
import numpy as np
import pytest
import torch
from torch import nn

from ferstudy.methods import METHODS
from ferstudy.methods.base import StepContext, TrainData
from ferstudy.methods.scn import rank_regularisation, relabel_candidates

torch.set_num_threads(1)


def test_rank_loss_zero_when_margin_met_positive_otherwise():
    wide = torch.tensor([0.9, 0.95, 0.8, 0.85, 0.9, 0.88, 0.92, 0.1, 0.2, 0.15])
    loss, low = rank_regularisation(wide, beta=0.7, margin=0.07)
    assert loss.item() == 0.0
    assert low.tolist() == [False] * 7 + [True] * 3
    narrow = torch.tensor([0.50, 0.52, 0.51, 0.53, 0.49, 0.50, 0.52, 0.48, 0.47, 0.49],
                          requires_grad=True)
    loss, low = rank_regularisation(narrow, beta=0.7, margin=0.07)
    order = torch.argsort(narrow.detach(), descending=True)
    gap = narrow[order[:7]].mean() - narrow[order[7:]].mean()
    assert loss.item() == pytest.approx(0.07 - gap.item()) and loss.item() > 0
    loss.backward()
    assert narrow.grad.abs().sum() > 0        # pushes the groups apart


def test_relabel_candidates_margin():
    probs = torch.tensor([[0.7, 0.2, 0.1],    # given 1: 0.7-0.2 = 0.5 > 0.2 -> relabel to 0
                          [0.4, 0.3, 0.3],    # given 1: 0.1       -> keep
                          [0.1, 0.1, 0.8],    # given 2: is max    -> keep
                          [0.45, 0.0, 0.55]])  # given 0: 0.10     -> keep
    mask, new = relabel_candidates(probs, torch.tensor([1, 1, 2, 0]), 0.2)
    assert mask.tolist() == [True, False, False, False] and new[0].item() == 0


class FixedNet(nn.Module):
    """Returns given logits and an embedding whose first unit is the wanted alpha's logit."""

    def __init__(self, logits, alpha_logit):
        super().__init__()
        self.logits, self.alpha_logit = logits, alpha_logit
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, x):
        emb = torch.stack([self.alpha_logit, torch.zeros_like(self.alpha_logit)], 1)
        return self.logits * self.w, emb


def _scn(**cfg):
    m = METHODS.get("scn")(cfg, num_classes=3, embed_dim=2)
    lin = m.heads["attention"][0]
    with torch.no_grad():                       # alpha = sigmoid(emb[:, 0])
        lin.weight.copy_(torch.tensor([[1.0, 0.0]]))
        lin.bias.zero_()
    return m


def _case():
    # 10 samples, given labels all 0. Samples 0..6 high alpha, 7..9 low alpha.
    # Strong evidence for class 1 on samples 2 (high group) and 8, 9 (low group);
    # sample 7 (low) is only a little more likely class 1 (fails the margin).
    big = 10.0   # logits are scaled by alpha (~1 high, ~0.5 low): keep margins clear
    logits = torch.zeros(10, 3)
    logits[:, 0] = 2.0
    logits[2] = torch.tensor([0.0, big, 0.0])
    logits[7] = torch.tensor([1.0, 1.05, 0.0])
    logits[8] = torch.tensor([0.0, big, 0.0])
    logits[9] = torch.tensor([0.0, 0.0, big])
    alpha_logit = torch.tensor([6.0] * 7 + [0.0] * 3)
    batch = {"x": torch.zeros(10, 1), "y": torch.zeros(10, dtype=torch.long),
             "index": torch.arange(100, 110)}
    return FixedNet(logits, alpha_logit), batch


def _ctx(epoch):
    return StepContext(epoch=epoch, device=torch.device("cpu"), log=lambda m: None)


def test_relabels_exactly_the_low_group_samples_passing_the_margin():
    model, batch = _case()
    m = _scn()
    clean = np.zeros(200, dtype=int)
    clean[108] = 1                      # sample 8's clean label is 1, sample 9's is 0
    m.prepare(TrainData(labels=np.zeros(200, dtype=int), clean_labels=clean))
    m.loss(model, batch, _ctx(epoch=8))                     # epoch 9 (1-based): too early
    assert m.relabels == {}
    loss, logs = m.loss(model, batch, _ctx(epoch=9))        # the 10th epoch
    assert m.relabels == {108: 1, 109: 2}                   # not 102 (high group), not 107
    m.on_epoch_end(9, {}, _ctx(9))
    logs = m.epoch_logs()
    assert logs["relabelled"] == 2 and logs["relabel_correct"] == 1
    assert logs["relabelled_clips_correct"] == 1
    # persistent: the next visit trains on the new labels
    y = m.current_labels(batch["index"], batch["y"])
    assert y[8].item() == 1 and y[9].item() == 2 and y[2].item() == 0


def test_batch_scope_relabels_every_passing_sample():
    model, batch = _case()
    m = _scn(relabel_scope="batch")
    m.loss(model, batch, _ctx(epoch=20))
    assert m.relabels == {102: 1, 108: 1, 109: 2}


def test_weighted_logits_and_state_roundtrip():
    model, batch = _case()
    m = _scn()
    loss, logs = m.loss(model, batch, _ctx(epoch=0))
    alpha = torch.sigmoid(model.alpha_logit)
    order = torch.argsort(alpha, descending=True)
    rr = max(0.0, 0.07 - (alpha[order[:7]].mean() - alpha[order[7:]].mean()).item())
    expected = nn.functional.cross_entropy(model.logits * alpha[:, None], batch["y"]) + rr
    assert loss.item() == pytest.approx(expected.item(), rel=1e-5)
    m.relabels = {3: 1, 5: 2}
    fresh = _scn()
    fresh.load_state_dict(m.state_dict())
    assert fresh.relabels == {3: 1, 5: 2}


def test_evaluated_model_weights_logits_and_keeps_backbone_state():
    from _methods_tiny import TinyVideoNet, clip_batch

    torch.manual_seed(0)
    model = TinyVideoNet()
    m = METHODS.get("scn")({}, num_classes=3, embed_dim=model.embed_dim)
    evaluated = m.eval_model(model).eval()
    model.eval()
    x = clip_batch(4)
    with torch.no_grad():
        logits, emb = model(x)
        alpha = m.heads["attention"](emb)
        got, got_emb = evaluated(x)
    assert torch.allclose(got, logits * alpha) and torch.equal(got_emb, emb)
    assert torch.equal(got.argmax(1), logits.argmax(1))
    assert evaluated.state_dict().keys() == model.state_dict().keys()   # model.pt stays loadable
    assert m.eval_model(model) is evaluated and evaluated.head is model.head
