"""The papers' image setting: still-image datasets stored with T = 1, repeated to a clip
arch's T at load time, and the frame-level ResNet-18 (``resnet2d``) on stills and clips."""
import cv2
import numpy as np
import pandas as pd
import pytest
import torch

from ferstudy import config as fcfg
from ferstudy import settings
from ferstudy.archs import build_model
from ferstudy.clipstore import ClipSet, concat, read_store
from ferstudy.datasets.register import read_manifest, register
from ferstudy.faces.sample import sample_positions
from ferstudy.faces.shards import gather_aligned, write_shard
from ferstudy.faces.stage import QC_COLUMNS, AlignedSet
from ferstudy.media import iter_frames
from ferstudy.runkey import RunKey
from ferstudy.train import pretrained
from ferstudy.train.predict import load_run_model, predict
from ferstudy.train.run import train_run

torch.set_num_threads(1)
CODES = {"surprise": 1, "happiness": 4, "anger": 6}     # RAF-DB label codes
SIZE = 16


def rafdb_tree(tmp_path, n_train=36, n_test=9):
    """A RAF-DB-layout release (basic/): class k lights quadrant k of a 32 px image."""
    root = tmp_path / "basic"
    (root / "Image" / "aligned").mkdir(parents=True)
    (root / "EmoLabel").mkdir()
    rng = np.random.default_rng(0)
    lines = []
    for part, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            k = i % 3
            img = np.full((32, 32), 90.0) + rng.normal(0, 20, (32, 32))
            r, q = divmod(k, 2)
            img[r * 16:(r + 1) * 16, q * 16:(q + 1) * 16] += 100
            name = f"{part}_{i + 1:05d}"
            cv2.imwrite(str(root / "Image" / "aligned" / f"{name}_aligned.jpg"),
                        np.clip(img, 0, 255).astype(np.uint8))
            lines.append(f"{name}.jpg {list(CODES.values())[k]}")
    (root / "EmoLabel" / "list_patition_label.txt").write_text("\n".join(lines) + "\n")
    return root


def _config(**align):
    return fcfg.validate({
        "datasets": {"rafdb": {"root": "/nonexistent"}},
        "study": {"datasets": ["rafdb"], "archs": ["resnet2d"], "classes": list(CODES)},
        "align": {"size": SIZE, **align},
        "train": {"epochs": 12, "batch_size": 8, "width": 0.125, "patience": 20, "lr": 1e-2}})


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """The tree registered and 'aligned' (the images resized: the align stage needs faces)
    through the real shard / gather path, which stores stills with T = 1."""
    tmp = tmp_path_factory.mktemp("raf")
    root = rafdb_tree(tmp)
    manifest_csv = tmp / "registry" / "rafdb.csv"
    register("rafdb", {"root": str(root)}, manifest_csv, tmp / "registry" / "rej.csv",
             folds=3, seed=0)
    manifest = read_manifest(manifest_csv)
    assert (manifest["kind"] == "image").all()
    clips = np.stack([cv2.resize(cv2.cvtColor(next(iter_frames(src, "image")), cv2.COLOR_RGB2GRAY),
                                 (SIZE, SIZE))[None, :, :, None] for src in manifest["source"]])
    qc = manifest.reindex(columns=QC_COLUMNS).assign(status="ok", reason="", detection_rate=1.0,
                                                     intensity=np.nan)
    write_shard(tmp / "0.npz", AlignedSet(clips, np.zeros((len(clips), 1), np.float32), qc))
    gather_aligned(manifest_csv, [tmp / "0.npz"], tmp / "aligned" / "rafdb",
                   _config()["align"] | {"shards": 1})
    return read_store(tmp / "aligned" / "rafdb", mmap=False)


def test_still_dataset_is_stored_once_with_t_1(store):
    assert store.shape == (1, SIZE, SIZE, 1) and len(store) == 45
    assert set(store.index["fold"]) == {0, 1}                  # official split: test = fold 0


def test_rafdb_trains_with_resnet2d_at_t_1(store, tmp_path):
    spec = RunKey("rafdb", "resnet2d", "supervised", "ri", "none", "full", 0, 0)
    metrics = train_run(spec, _config(), tmp_path / "run", clips=store, log=lambda m: None)
    assert metrics["n_test"] == 9 and metrics["accuracy_optimistic"] is not None
    model = load_run_model(tmp_path / "run")
    assert model.frames == 1 and torch.load(tmp_path / "run" / "model.pt", weights_only=False)[
        "arch_kwargs"]["frames"] == 1
    assert metrics["accuracy"] > 0.5                          # chance 1/3: it learns the stills
    probs, _ = predict(model, np.asarray(store.clips[:4]))   # a still is a still at test time
    probs8, _ = predict(model, np.repeat(np.asarray(store.clips[:4]), 8, axis=1))
    assert np.allclose(probs, probs8, atol=1e-5)              # frame average: T does not matter


def test_clip_arch_gets_the_still_repeated_to_its_t(store, tmp_path):
    config = _config(frames=4)
    job = settings.train(config, {"dataset": "rafdb", "arch": "resnet3d", "method": "supervised",
                                  "init": "ri", "augment": "none", "protocol": "full"})
    assert job["align"] == {"frames": 4}
    spec = RunKey("rafdb", "resnet3d", "supervised", "ri", "none", "full", 0, 0)
    train_run(spec, {**config, "train": {**config["train"], "epochs": 1}}, tmp_path / "run",
              clips=store, log=lambda m: None)
    model = load_run_model(tmp_path / "run")
    assert model.frames == 4
    probs, _ = predict(model, np.asarray(store.clips[:3]))      # stored T = 1 -> repeated
    assert probs.shape == (3, 3)


def test_with_frames_is_a_view_and_concat_repeats_stills():
    still = ClipSet(np.arange(2 * 4, dtype=np.uint8).reshape(2, 1, 2, 2, 1),
                    np.ones((2, 1), np.float32), pd.DataFrame({"clip_id": ["a", "b"]}))
    video = ClipSet(np.zeros((1, 3, 2, 2, 1), np.uint8), np.zeros((1, 3), np.float32),
                    pd.DataFrame({"clip_id": ["c"]}))
    rep = still.with_frames(3)
    assert rep.shape == (3, 2, 2, 1) and not rep.clips.flags.owndata
    assert (rep.clips[:, 2] == still.clips[:, 0]).all() and rep.intensity.shape == (2, 3)
    both = concat([still, video])
    assert both.shape == (3, 2, 2, 1) and len(both) == 3
    with pytest.raises(ValueError, match="still-image"):
        video.with_frames(6)


def _torchvision_resnet18_layout():
    """torchvision.models.resnet18's state-dict names and shapes, written out (RGB, 1000
    classes): the test needs neither torchvision nor a download."""
    def bn(prefix, c):
        return {f"{prefix}.weight": (c,), f"{prefix}.bias": (c,), f"{prefix}.running_mean": (c,),
                f"{prefix}.running_var": (c,), f"{prefix}.num_batches_tracked": ()}
    layout = {"conv1.weight": (64, 3, 7, 7), **bn("bn1", 64)}
    cin = 64
    for i, c in enumerate((64, 128, 256, 512), start=1):
        for b in range(2):
            p = f"layer{i}.{b}"
            first = cin if b == 0 else c
            layout |= {f"{p}.conv1.weight": (c, first, 3, 3), **bn(f"{p}.bn1", c),
                       f"{p}.conv2.weight": (c, c, 3, 3), **bn(f"{p}.bn2", c)}
            if b == 0 and i > 1:
                layout |= {f"{p}.downsample.0.weight": (c, cin, 1, 1), **bn(f"{p}.downsample.1", c)}
        cin = c
    return layout | {"fc.weight": (1000, 512), "fc.bias": (1000,)}


def test_resnet2d_loads_torchvision_imagenet_names(monkeypatch):
    layout = _torchvision_resnet18_layout()
    assert len(layout) == 122                                   # resnet18().state_dict()
    g = torch.Generator().manual_seed(0)
    fake = {k: (torch.randn(s, generator=g) if s else torch.tensor(0)) for k, s in layout.items()}
    monkeypatch.setattr(pretrained, "torchvision_state",
                        lambda arch, log=print: pretrained.map_torchvision_keys(fake, video=False))
    model = build_model("resnet2d", num_classes=6, in_channels=1, frames=1, size=100, width=1.0)
    report = pretrained.load_pretrained(model, arch="resnet2d", torchvision=True, log=lambda m: None)
    assert report.adapted == ["backbone.conv1.weight"]          # RGB filters summed for grey
    assert len(report.loaded) + 1 == len(layout) - 2 and not report.skipped[2:]
    assert sorted(report.reinitialised) == ["head.bias", "head.weight"]
    assert torch.equal(model.backbone.layer4[1].conv2.weight, fake["layer4.1.conv2.weight"])
    logits, emb = model(torch.rand(2, 1, 1, 100, 100))           # a still, T = 1
    assert logits.shape == (2, 6) and emb.shape == (2, 512)
    clip_logits, _ = model.eval()(torch.rand(2, 1, 8, 100, 100))  # and a clip, per frame
    assert clip_logits.shape == (2, 6)


def test_one_frame_of_an_onset_apex_clip_is_its_apex():
    assert sample_positions(10, 1, "onset_apex").tolist() == [9]
    assert sample_positions(10, 2, "onset_apex").tolist() == [0, 9]
    assert sample_positions(10, 1, "static").tolist() == [0]
