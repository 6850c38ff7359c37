"""Initialisation: Xavier statistics of ``ri``; ``ft`` partial loading and its bad input."""
import math

import pytest
import torch
from torch import nn

from ferstudy.archs import build_model
from ferstudy.inits import INITS
from ferstudy.train.outputs import write_model
from ferstudy.train.pretrained import (CheckpointError, load_partial, load_pretrained,
                                       map_torchvision_keys)

torch.set_num_threads(1)
KW = dict(in_channels=1, frames=8, size=32, width=0.25)


def test_ri_is_xavier_uniform_with_zero_bias_and_orthogonal_recurrence():
    torch.manual_seed(0)
    model = build_model("vgg2d_lstm", num_classes=6, **KW)
    for p in model.parameters():            # start from garbage so the init must overwrite it
        nn.init.constant_(p, 3.0)
    INITS.get("ri")(model)
    checked = 0
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.Linear)) and module.weight.numel() >= 2000:
            w = module.weight.detach()
            fan_in = w.shape[1] * w[0, 0].numel()
            fan_out = w.shape[0] * w[0, 0].numel()
            expected = math.sqrt(2.0 / (fan_in + fan_out))   # std of U(-a, a), a = sqrt(6/(fi+fo))
            assert abs(w.std().item() - expected) < 0.08 * expected, module
            assert w.abs().max() <= math.sqrt(6.0 / (fan_in + fan_out)) + 1e-6
            checked += 1
        if isinstance(module, (nn.Conv2d, nn.Linear)) and module.bias is not None:
            assert torch.count_nonzero(module.bias) == 0
        if isinstance(module, nn.BatchNorm2d):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0)
    assert checked >= 4
    lstm = model.lstm
    w_hh = lstm.weight_hh_l0.detach()                     # (4h, h): orthonormal columns
    eye = torch.eye(w_hh.shape[1])
    assert torch.allclose(w_hh.T @ w_hh, eye, atol=1e-4)
    assert torch.count_nonzero(lstm.bias_ih_l0) == 0 and torch.count_nonzero(lstm.bias_hh_l0) == 0


def _pretrained_file(tmp_path, arch="resnet3d", num_classes=4):
    torch.manual_seed(1)
    source = build_model(arch, num_classes=num_classes, **KW)
    path = tmp_path / "model.pt"
    write_model(path, arch=arch, state_dict=source.state_dict(), classes=list("abcd")[:num_classes],
                arch_kwargs={"num_classes": num_classes, **KW}, embed_dim=source.embed_dim)
    return path, source


def test_ft_loads_backbone_tensors_and_gives_a_new_head(tmp_path):
    path, source = _pretrained_file(tmp_path)
    torch.manual_seed(2)
    model = build_model("resnet3d", num_classes=6, **KW)   # other classes: a new head
    INITS.get("ft")(model)
    lines = []
    report = load_pretrained(model, arch="resnet3d", checkpoint=path, log=lines.append)
    src, dst = source.state_dict(), model.state_dict()
    assert set(report.reinitialised) == {"head.weight", "head.bias"}
    assert {k.split(" ")[0] for k in report.skipped} == {"head.weight", "head.bias"}
    assert set(report.loaded) == set(src) - {"head.weight", "head.bias"}
    for key in report.loaded:
        assert torch.equal(dst[key], src[key]), key
    assert torch.count_nonzero(model.head.bias) == 0        # Xavier head, zero bias
    assert "2 re-initialised" in lines[0] and any(line.startswith("  skipped: head.weight") for line in lines)


def test_ft_keeps_the_head_only_when_asked(tmp_path):
    path, source = _pretrained_file(tmp_path, num_classes=6)
    model = build_model("resnet3d", num_classes=6, **KW)
    report = load_pretrained(model, arch="resnet3d", checkpoint=path, keep_head=True, log=lambda m: None)
    assert "head.weight" in report.loaded and not report.reinitialised
    assert torch.equal(model.head.weight, source.head.weight)


def test_ft_refuses_missing_or_foreign_checkpoints(tmp_path):
    model = build_model("vgg3d", num_classes=6, **KW)
    with pytest.raises(CheckpointError, match=r"nothere\.pt.*'vgg3d'"):
        load_pretrained(model, arch="vgg3d", checkpoint=tmp_path / "nothere.pt")
    path, _ = _pretrained_file(tmp_path, arch="resnet3d")
    with pytest.raises(CheckpointError, match=r"model\.pt holds arch 'resnet3d'.*'vgg3d'"):
        load_pretrained(model, arch="vgg3d", checkpoint=path)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file")
    with pytest.raises(CheckpointError, match=r"junk\.pt.*'vgg3d'"):
        load_pretrained(model, arch="vgg3d", checkpoint=junk)
    bare = tmp_path / "bare.pt"                      # a state dict of another net: nothing fits
    torch.save(nn.Linear(3, 2).state_dict(), bare)
    with pytest.raises(CheckpointError, match=r"no tensor matches arch 'vgg3d'"):
        load_pretrained(model, arch="vgg3d", checkpoint=bare)


def test_rgb_first_conv_is_adapted_to_grey_and_mismatches_are_skipped():
    grey = build_model("resnet2d_lstm", num_classes=6, **KW)
    rgb = build_model("resnet2d_lstm", num_classes=6, **{**KW, "in_channels": 3})
    wide = build_model("resnet2d_lstm", num_classes=6, **{**KW, "width": 0.5})
    state = {**rgb.state_dict(), "backbone.layer4.0.conv1.weight":
             wide.state_dict()["backbone.layer4.0.conv1.weight"]}
    report = load_partial(grey, state, name="test")
    assert report.adapted == ["backbone.conv1.weight"]
    assert torch.allclose(grey.backbone.conv1.weight, rgb.backbone.conv1.weight.sum(1, keepdim=True))
    assert any(s.startswith("backbone.layer4.0.conv1.weight (shape") for s in report.skipped)
    assert "backbone.layer4.0.conv1.weight" in report.reinitialised


def test_torchvision_video_names_map_onto_resnet3d():
    # the key layout of torchvision.models.video.r3d_18 (no torchvision needed for the mapping)
    tv_keys = ["stem.0.weight", "stem.1.weight", "stem.1.running_var",
               "layer1.0.conv1.0.weight", "layer1.0.conv1.1.bias", "layer1.0.conv2.0.weight",
               "layer1.0.conv2.1.running_mean", "layer2.0.downsample.0.weight",
               "layer2.0.downsample.1.weight", "layer4.1.conv2.1.num_batches_tracked", "fc.weight"]
    mapped = map_torchvision_keys({k: torch.zeros(1) for k in tv_keys}, video=True)
    ours = build_model("resnet3d", num_classes=6, **KW).state_dict()
    assert len(mapped) == len(tv_keys) - 1 and "fc.weight" not in mapped
    assert set(mapped) <= set(ours)
    image = map_torchvision_keys({"conv1.weight": torch.zeros(1), "layer3.1.bn2.bias": torch.zeros(1)},
                                 video=False)
    assert set(image) <= set(build_model("resnet2d_lstm", num_classes=6, **KW).state_dict())


def test_torchvision_weights_without_torchvision_stop_the_run():
    try:
        import torchvision  # noqa: F401
        pytest.skip("torchvision is installed here; the missing-package path cannot be exercised")
    except ImportError:
        pass
    model = build_model("resnet3d", num_classes=6, **KW)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    # never an ft run that silently kept its ri weights
    with pytest.raises(CheckpointError, match=r"train.pretrain.torchvision.*not installed"):
        load_pretrained(model, arch="resnet3d", torchvision=True, log=lambda m: None)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    with pytest.raises(CheckpointError, match="msanet"):
        load_pretrained(model, arch="msanet", torchvision=True)
