"""Registry sweep over every architecture: shapes, gradients, no NaN, parameter counts."""
import pytest
import torch

from ferstudy.archs import ARCHS, build_model
from ferstudy.registry import UnknownNameError

torch.set_num_threads(1)

EXPECTED = {"vgg2d_lstm", "resnet2d_lstm", "msa2d_lstm", "vgg3d", "resnet3d", "msa3d",
            "vgg3d_lstm", "resnet3d_lstm", "msa3d_lstm", "msanet"}


def test_registry_holds_the_study_architectures():
    assert EXPECTED <= set(ARCHS.names())


@pytest.mark.parametrize("arch", ARCHS.names())
def test_forward_backward_on_a_tiny_clip(arch):
    torch.manual_seed(0)
    model = build_model(arch, num_classes=5, in_channels=1, frames=8, size=32, width=0.125)
    x = torch.rand(2, 1, 8, 32, 32)
    logits, emb = model(x)
    assert logits.shape == (2, 5)
    assert emb.shape == (2, model.embed_dim)
    assert torch.isfinite(logits).all() and torch.isfinite(emb).all()
    (logits.logsumexp(1).mean() + emb.pow(2).mean()).backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads), "missing/NaN gradient"
    assert any(g.abs().sum() > 0 for g in grads)
    assert model.head.out_features == 5          # fine-tuning replaces the head by this name


@pytest.mark.parametrize("arch", ["resnet2d_lstm", "msa3d_lstm", "msanet"])
def test_rgb_input_and_width_scale_the_model(arch):
    small = build_model(arch, num_classes=6, in_channels=3, frames=8, size=32, width=0.125)
    large = build_model(arch, num_classes=6, in_channels=3, frames=8, size=32, width=0.25)
    logits, _ = small(torch.rand(1, 3, 8, 32, 32).repeat(2, 1, 1, 1, 1))
    assert logits.shape == (2, 6)
    count = lambda m: sum(p.numel() for p in m.parameters())  # noqa: E731
    assert count(large) > 2 * count(small)


def test_clip_input_must_be_five_dimensional():
    model = build_model("vgg3d", num_classes=3, in_channels=1, frames=8, size=32, width=0.125)
    with pytest.raises(ValueError, match=r"\(B, C, T, H, W\)"):
        model(torch.rand(2, 1, 32, 32))


def test_unknown_architecture_lists_the_known_ones():
    with pytest.raises(UnknownNameError, match="resnet3d"):
        build_model("alexnet", num_classes=3, in_channels=1, frames=8, size=32, width=1.0)


def test_parameter_count_table(capsys):
    """Prints demo-size (8 x 48 px grey, width 0.125) and full-size (16 x 112 px RGB, width 1)
    parameter counts; full-size ResNets must be ResNet-18 / R3D-18 sized."""
    rows = []
    for arch in ARCHS.names():
        demo = build_model(arch, num_classes=6, in_channels=1, frames=8, size=48, width=0.125)
        full = build_model(arch, num_classes=6, in_channels=3, frames=16, size=112, width=1.0)
        rows.append((arch, sum(p.numel() for p in demo.parameters()),
                     sum(p.numel() for p in full.parameters()), full.embed_dim))
    with capsys.disabled():
        print(f"\n{'arch':<15}{'demo params':>13}{'full params':>14}{'full emb':>10}")
        for arch, d, f, e in rows:
            print(f"{arch:<15}{d:>13,}{f:>14,}{e:>10}")
    counts = {a: f for a, _, f, _ in rows}
    assert 11e6 < counts["resnet2d_lstm"] < 13e6      # ResNet-18 trunk (11.2 M) + LSTM
    assert 33e6 < counts["resnet3d"] < 34e6           # R3D-18 (33.2 M)


@pytest.mark.parametrize("arch", ["resnet2d_lstm", "vgg3d", "msa3d_lstm"])
def test_channels_last_layout_gives_the_same_outputs(arch):
    """The CUDA path stores conv weights channels-last; the numbers must not change."""
    from ferstudy.train.device import channels_last

    torch.manual_seed(0)
    model = build_model(arch, num_classes=4, in_channels=1, frames=8, size=32, width=0.125).eval()
    x = torch.rand(2, 1, 8, 32, 32)
    with torch.no_grad():
        ref = model(x)[0]
        out = channels_last(model)(x.contiguous(memory_format=torch.channels_last_3d))[0]
    assert torch.allclose(ref, out, atol=1e-5)
    convs = [m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d))]
    assert any(not m.weight.is_contiguous() for m in convs)


@pytest.mark.parametrize("arch", ["vgg2d_lstm", "resnet3d_lstm", "msanet"])
def test_onset_difference_channels(arch):
    """onset_diff doubles the backbone's input channels; a clip's onset frame matters."""
    torch.manual_seed(0)
    model = build_model(arch, num_classes=4, in_channels=1, frames=8, size=32, width=0.125,
                        onset_diff=True).eval()
    first = next(m for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Conv3d)))
    assert first.in_channels == 2
    x = torch.rand(2, 1, 8, 32, 32)
    y = x.clone()
    y[:, :, 0] = 0.5                          # other onset frame, same later frames
    with torch.no_grad():
        logits, emb = model(x)
        assert logits.shape == (2, 4) and emb.shape == (2, model.embed_dim)
        assert not torch.allclose(model(y)[1][:, :], emb)
