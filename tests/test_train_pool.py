"""FT pools, GAN rows and selection respect the run: for every init x protocol of a tiny study,
no test clip, no validation subject and no label the protocol withholds or corrupts reaches the
pretraining pool, the GAN, or the labels the run selects its epoch on (clip ids and labels
inspected, not flags). Real-data ft needs an explicit external source (#15 item 2)."""
import pytest
import torch

from ferstudy import config as fcfg
from ferstudy.augment.gan.data import select_training_rows
from ferstudy.runkey import RunKey
from ferstudy.train.data import build_run_data, validation_subjects
from ferstudy.train.plan import train_inputs
from ferstudy.train.pretrain import build_pool, pool_name, run_pretrain
from ferstudy.train.run import train_run
from toyclips import TOY_CLASSES, toy_clipset

torch.set_num_threads(1)
PROTOCOLS = ["full", "noisesym30", "noiseflip20", "labels1", "frac50"]


def _config(tmp_path, **pretrain):
    cfg = {"results": str(tmp_path),
           "datasets": {"toy": {"root": "/nonexistent/toy", "adapter": "generic"},
                        "ext": {"root": "/nonexistent/ext", "adapter": "generic"}},
           "study": {"datasets": ["toy"], "archs": ["resnet2d_lstm"], "methods": ["supervised"],
                     "inits": ["ri", "ft"], "augments": ["none"], "protocols": PROTOCOLS,
                     "seeds": [0], "folds": [0], "classes": list(TOY_CLASSES)},
           "train": {"epochs": 1, "batch_size": 8, "width": 0.125, "val_fraction": 0.25,
                     "onset_diff": True,
                     "pretrain": {"sources": ["ext"], "include_target_train": True,
                                  "epochs": 1, **pretrain}}}
    return fcfg.validate(cfg)


@pytest.fixture(scope="module")
def stores():
    return {"toy": toy_clipset(subjects=12, frames=4, size=32, folds=4, dataset="toy"),
            "ext": toy_clipset(subjects=6, frames=4, size=32, folds=4, seed=3, dataset="ext")}


def _withheld_or_corrupted(data) -> set[str]:
    ids = data.train.index["clip_id"].astype(str).to_numpy()[: len(data.clean_labels)]
    bad = (data.train_labels < 0) | (data.train_labels != data.clean_labels)
    return set(ids[bad])


@pytest.mark.parametrize("init", ["ri", "ft"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_pool_gan_and_selection_respect_the_run(tmp_path, stores, init, protocol):
    config = _config(tmp_path)
    fold, target = 0, stores["toy"]
    data = build_run_data(target, name="toy", fold=fold, study_classes=TOY_CLASSES,
                          val_fraction=0.25, seed=0, protocol=protocol)
    test_ids = set(data.test.index["clip_id"])
    val_subjects = set(validation_subjects(target, fold=fold, val_fraction=0.25,
                                           study_classes=TOY_CLASSES))
    assert val_subjects and test_ids
    inputs = train_inputs({"dataset": "toy", "arch": "resnet2d_lstm", "init": init,
                           "augment": "none", "protocol": protocol, "fold": str(fold)}, config)
    if init == "ri":
        assert "pretrained" not in inputs
    else:
        pool = pool_name(config, "toy", protocol, fold)
        assert inputs["pretrained"].endswith(
            f"/pretrain/toy/resnet2d_lstm/{pool}/model.pt" if pool != "external"
            else "/pretrain/external/ext/resnet2d_lstm/model.pt")      # rule pretrain_external
        clips, info = build_pool(config, "toy", pool, stores)
        if pool == "external":   # what pretrain_external builds from the datasets alone
            shared, shared_info = build_pool(config, None, "external", stores, members=["ext"])
            assert shared.index.equals(clips.index) and shared_info == info
        from_target = clips.index[clips.index["dataset"] == "toy"]
        ids = set(from_target["clip_id"])
        assert not ids & test_ids                                  # (a) no test clip
        assert not {s.split(":", 1)[1] for s in from_target["subject"]} & val_subjects   # (b)
        assert not ids & _withheld_or_corrupted(data)              # (c) no such label
        registered = target.index.set_index("clip_id")["label"]
        pool_labels = from_target.set_index("clip_id")["label"]
        assert (pool_labels == registered[pool_labels.index]).all()     # registered labels
        if protocol == "full":
            assert info["pool_protocol"] == "full" and len(ids) > 0   # target training folds
            assert info["excluded_fold"] == fold
        else:
            assert info["pool_protocol"] == "target excluded" and not ids
        assert set(clips.index["dataset"]) <= {"toy", "ext"}
        assert info["pool_subjects"] == clips.index["subject"].nunique()
    # selection: validation labels are never cleaner than the protocol's training labels
    if protocol.startswith(("labels", "frac")):
        assert len(data.val) == 0 and len(data.val_labels) == 0
    else:
        assert set(data.val.index["subject"]) == val_subjects
        clean = data.val.index["label"].map({c: i for i, c in enumerate(data.classes)}).to_numpy()
        assert (data.val_labels != clean).any() == protocol.startswith("noise")
    # the GAN of (toy, fold) never trains on the test fold or the validation subjects
    rows = select_training_rows(target, name="toy", test_fold=fold, classes=TOY_CLASSES,
                                batch=4, val_fraction=0.25)
    gan = target.index.iloc[rows]
    assert not set(gan["clip_id"]) & test_ids and not set(gan["subject"]) & val_subjects


def test_external_pool_is_shared_by_protocols_and_the_full_pool_by_fold(tmp_path):
    config = _config(tmp_path)
    assert {pool_name(config, "toy", p, 2) for p in PROTOCOLS[1:]} == {"external"}
    assert pool_name(config, "toy", "full", 2) == "fold2-full"
    config["train"]["pretrain"]["include_target_train"] = False
    assert pool_name(config, "toy", "full", 2) == "external"


def test_external_pool_model_is_shared_by_targets_with_the_same_sources(tmp_path):
    from ferstudy.train.plan import pretrained_model

    config = _config(tmp_path)
    config["train"]["pretrain"]["include_target_train"] = False
    config["datasets"]["other"] = dict(config["datasets"]["toy"])
    config["study"]["datasets"] = ["toy", "other"]
    paths = {d: pretrained_model(config, d, "resnet2d_lstm", "full", 1) for d in ("toy", "other")}
    assert paths["toy"] == paths["other"] and "/pretrain/external/ext/" in paths["toy"]
    # sources [] = every other study dataset: each target's pool differs, so do the models
    config["train"]["pretrain"]["sources"] = []
    paths = {d: pretrained_model(config, d, "resnet2d_lstm", "full", 1) for d in ("toy", "other")}
    assert paths["toy"].split("/")[-3] == "other" and paths["other"].split("/")[-3] == "toy"


def test_run_metrics_record_the_pool(tmp_path, stores):
    config = _config(tmp_path)
    out = tmp_path / "pretrain" / "model.pt"
    run_pretrain(config, members=["ext"], arch="resnet2d_lstm", out=out,   # pretrain_external
                 stores=stores, log=lambda m: None)
    spec = RunKey("toy", "resnet2d_lstm", "supervised", "ft", "none", "labels1", 0, 0)
    metrics = train_run(spec, config, tmp_path / "run", clips=stores["toy"], pretrained=out,
                        log=lambda m: None)
    assert metrics["pretrain_sources"] == ["ext"]
    assert metrics["pretrain_protocol"] == "target excluded"
    assert metrics["pretrain_subjects"] == 6


def test_real_data_ft_needs_an_explicit_external_source(tmp_path):
    with pytest.raises(fcfg.ConfigError, match=r"'train.pretrain.sources'.*torchvision"):
        _config(tmp_path, sources=[])
    cfg = _config(tmp_path, sources=[], torchvision=True)          # a documented choice
    assert cfg["train"]["pretrain"]["torchvision"]
    _config(tmp_path, sources=[], checkpoint="/weights/{arch}.pt")
    with pytest.raises(fcfg.ConfigError, match=r"'ghost' is not declared"):
        _config(tmp_path, sources=["ghost"])


def test_demo_source_is_never_used_for_real_data(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = {"datasets": {"ckplus": {"root": "/data/CK+"},
                        "pretrain_pool": {"adapter": "mug", "demo": True,
                                          "root": "resources/demo/pretrain_pool"}},
           "study": {"datasets": ["ckplus"], "archs": ["resnet3d"], "inits": ["ft"]},
           "train": {"pretrain": {"sources": ["pretrain_pool"]}}}
    with pytest.raises(fcfg.ConfigError, match=r"demo stand-in, but study dataset 'ckplus' is real"):
        fcfg.validate(cfg)
    cfg["datasets"]["ckplus"] = {"root": "resources/demo/ckplus", "demo": True}
    fcfg.validate(cfg)                                            # the demo keeps its pool


def test_non_full_protocols_need_a_source_other_than_the_target(tmp_path):
    with pytest.raises(fcfg.ConfigError, match=r"protocols other than full leave 'toy' out"):
        _config(tmp_path, sources=["toy"])


def test_sd_is_refused_with_label_protocols(tmp_path):
    cfg = _config(tmp_path)
    cfg["study"]["augments"] = ["da+sd"]
    with pytest.raises(fcfg.ConfigError, match=r"'study.augments'.*withhold or corrupt"):
        fcfg.validate(cfg)
