"""Clip GAN: trains on a fold's training subjects only, writes generator + quality files,
generates well-formed, temporally coherent clips; bad training sets fail clearly."""
import json

import numpy as np
import pytest
import torch

from cartoon_clips import cartoon_clipset
from ferstudy.augment.gan.stage import GAN_FILES, generate_stage, train_gan
from ferstudy.augment.gan.data import build_gan_data
from ferstudy.augment.gan.models import GENERATORS
from ferstudy.augment.gan.generate import load_generator
from ferstudy.clipstore import ClipSet, read_store

torch.set_num_threads(1)
CLASSES = ["anger", "happiness", "surprise"]
TINY = {"iterations": 6, "batch": 4, "size": 16, "width": 4, "latent_dim": 8, "log_every": 2,
        "frame_samples": 2, "r1_every": 2, "lr_g": 1e-3, "lr_d": 1e-3}


class Spy:
    """An array stand-in that records which rows were read."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.rows = array, array.shape, array.dtype, set()

    def __len__(self):
        return len(self.array)

    def __getitem__(self, key):
        self.rows.update(np.arange(len(self.array))[key].reshape(-1).tolist())
        return self.array[key]

    def __array__(self, dtype=None, copy=None):
        self.rows.update(range(len(self.array)))
        return np.asarray(self.array, dtype=dtype)


def _cartoon(**kw):
    args = dict(subjects=8, clips_per_subject=3, frames=4, size=16, folds=4,
                classes=tuple(CLASSES))
    return cartoon_clipset(**{**args, **kw})


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    out = tmp_path_factory.mktemp("gan") / "cartoon" / "fold1"
    cs = _cartoon()
    test_rows = np.flatnonzero(cs.index["fold"].to_numpy() == 1)
    # poison the test fold: were it read, losses would go NaN and the grids would show it
    clips, intensity = cs.clips.copy(), cs.intensity.copy()
    clips[test_rows], intensity[test_rows] = 255, np.nan
    spy_clips, spy_int = Spy(clips), Spy(intensity)
    quality = train_gan(ClipSet(spy_clips, spy_int, cs.index), out, dataset="cartoon",
                        test_fold=1, classes=CLASSES, cfg=TINY, device=torch.device("cpu"),
                        probe_steps=60)
    return out, cs, test_rows, spy_clips, spy_int, quality


def test_no_test_subject_clip_is_read(trained):
    out, cs, test_rows, spy_clips, spy_int, _ = trained
    assert spy_clips.rows and spy_int.rows
    assert not (spy_clips.rows | spy_int.rows) & set(test_rows.tolist())
    ckpt = torch.load(out / "generator.pt", weights_only=False)
    test_subjects = set(cs.index["subject"][test_rows])
    assert not set(ckpt["train_subjects"]) & test_subjects
    assert ckpt["n_train"] == len(cs) - len(test_rows)


def test_training_writes_finite_losses_and_quality_files(trained):
    out, _, _, _, _, quality = trained
    for name in GAN_FILES:
        assert (out / name).stat().st_size > 0, name
    import pandas as pd

    losses = pd.read_csv(out / "losses.csv")
    assert list(losses["iteration"]) == [2, 4, 6]
    assert np.isfinite(losses[["d_loss", "g_loss"]].to_numpy()).all()
    saved = json.loads((out / "quality.json").read_text())
    assert 0 <= saved["label_fidelity"] <= 1 and saved["n_synthetic"] == 24 * len(CLASSES)
    assert np.isfinite(saved["fd_synthetic"]) and np.isfinite(saved["fd_real"])
    assert saved["label_fidelity"] == pytest.approx(quality["label_fidelity"])
    assert saved["n_real"] == 18 and 0 < saved["n_real_heldout"] < 18


def test_generated_store_shape_labels_flag_and_provenance(trained, tmp_path):
    out, cs, *_ = trained
    syn = generate_stage(out / "generator.pt", tmp_path / "syn", clips_per_class=5, seed=3)
    stored = read_store(tmp_path / "syn")
    assert stored.clips.dtype == np.uint8 and stored.shape == cs.shape
    assert stored.index["label"].value_counts().to_dict() == {c: 5 for c in CLASSES}
    assert (stored.index["synthetic"] == 1).all() and (stored.index["fold"] == -1).all()
    assert np.array_equal(stored.clips, syn.clips)
    prov = json.loads((tmp_path / "syn" / "provenance.json").read_text())
    import hashlib

    assert prov["generator_sha256"] == hashlib.sha256((out / "generator.pt").read_bytes()).hexdigest()
    again = generate_stage(out / "generator.pt", tmp_path / "syn2", clips_per_class=5, seed=3)
    assert np.array_equal(again.clips, syn.clips)          # same seed, same clips


def test_frames_within_a_clip_closer_than_across_clips(trained):
    out, *_ = trained
    G, ckpt = load_generator(out / "generator.pt")
    gen = torch.Generator().manual_seed(0)
    n = 12
    z, y = torch.randn(n, G.latent_dim, generator=gen), torch.arange(n) % len(CLASSES)
    src = ckpt["sources"][torch.randperm(len(ckpt["sources"]), generator=gen)[:n]].float() / 255
    with torch.no_grad():
        x = G(z, y, torch.linspace(0, 1, 4).expand(n, 4), src)     # (n, C, T, S, S)
    within = (x[:, :, 1:] - x[:, :, :-1]).abs().mean()
    across = (x[1:] - x[:-1]).abs().mean()
    assert 1e-4 < within < 0.5 * across, (float(within), float(across))
    # at intensity 0 the class does not matter: a clip starts from its identity's neutral face
    with torch.no_grad():
        a = G(z[:1].repeat(3, 1), torch.arange(3), torch.zeros(3, 2), src[:1].repeat(3, 1, 1, 1))
    assert torch.allclose(a[:, :, 0], src[:1].expand(3, -1, -1, -1), atol=1e-5)
    # training identities only: every source frame is a training clip's neutral frame
    assert ckpt["sources"].shape[0] == ckpt["n_train"]


@pytest.mark.parametrize("kind", ["reenact", "synthesize"])
def test_generators_move_with_intensity(kind):
    torch.manual_seed(0)
    G = GENERATORS[kind](num_classes=3, latent_dim=8, size=16, width=4)
    torch.nn.init.normal_(G.to_motion.weight, std=0.5)        # some expression motion
    src = torch.rand(2, 1, 16, 16)
    with torch.no_grad():
        x = G(torch.randn(2, 8), torch.tensor([0, 1]), torch.tensor([[0.0, 0.5, 1.0]] * 2), src)
        same_start = G(torch.randn(1, 8).repeat(2, 1), torch.tensor([0, 2]), torch.zeros(2, 1),
                       src[:1].repeat(2, 1, 1, 1))
    assert x.shape == (2, 1, 3, 16, 16) and x.min() >= 0 and x.max() <= 1
    assert (x[:, :, 1] - x[:, :, 0]).abs().mean() > 1e-3
    assert torch.allclose(same_start[0], same_start[1], atol=1e-6)   # t = 0: class-independent


def test_too_small_training_set_names_set_and_batch():
    cs = _cartoon(subjects=4, clips_per_subject=3)
    with pytest.raises(ValueError, match=r"'tiny'.*fewer than augment\.sd\.batch=64"):
        build_gan_data(cs, name="tiny", test_fold=0, classes=CLASSES, batch=64, size=16)


def test_class_without_clips_names_set_and_class():
    cs = _cartoon()
    with pytest.raises(ValueError, match=r"'merged-a\+b'.*no clip of class 'fear'"):
        build_gan_data(cs, name="merged-a+b", test_fold=0, classes=CLASSES + ["fear"], batch=4,
                       size=16)
    with pytest.raises(ValueError, match="fold 9 does not exist"):
        build_gan_data(cs, name="x", test_fold=9, classes=CLASSES, batch=4, size=16)
