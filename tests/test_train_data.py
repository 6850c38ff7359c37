"""Run data: subject-disjoint train/val/test, merged sets, protocol on training labels only,
synthetic clips in training only, empty-class errors naming the fold, the pretraining pool."""
import numpy as np
import pandas as pd
import pytest

from ferstudy.clipstore import load_dataset, write_store
from ferstudy.train.data import EmptyClassError, build_run_data, validation_subjects
from ferstudy.train.pretrain import pool_for, source_members
from toyclips import TOY_CLASSES, toy_clipset


def _subjects(cs):
    return set(cs.index["subject"])


@pytest.mark.parametrize("fold", [0, 3])
def test_train_val_test_are_subject_disjoint_and_test_is_the_fold(fold):
    cs = toy_clipset(subjects=12, clips_per_class=2, size=16, frames=2, folds=4)
    data = build_run_data(cs, name="toy", fold=fold, study_classes=TOY_CLASSES,
                          val_fraction=0.25, seed=3)
    tr, va, te = _subjects(data.train), _subjects(data.val), _subjects(data.test)
    assert tr and va and te
    assert not (tr & va) and not (tr & te) and not (va & te)
    assert set(data.test.index["fold"].astype(int)) == {fold}
    assert fold not in set(data.train.index["fold"].astype(int)) | set(data.val.index["fold"].astype(int))
    assert len(data.train) + len(data.val) + len(data.test) == len(cs)
    assert 0.15 < len(data.val) / (len(data.train) + len(data.val)) < 0.4
    # labels line up with the index
    names = np.asarray(data.classes)
    assert (names[data.test_labels] == data.test.index["label"]).all()


def test_val_split_is_a_function_of_the_fold_shared_with_gan_and_pool():
    cs = toy_clipset(subjects=12, size=16, frames=2, folds=4)
    runs = [build_run_data(cs, name="toy", fold=1, study_classes=TOY_CLASSES, val_fraction=0.3,
                           seed=s) for s in (0, 5, 11)]
    shared = validation_subjects(cs, fold=1, val_fraction=0.3, study_classes=TOY_CLASSES)
    assert shared and all(sorted(_subjects(r.val)) == shared for r in runs)
    assert all(_subjects(r.test) == _subjects(runs[0].test) for r in runs)
    other = validation_subjects(cs, fold=2, val_fraction=0.3, study_classes=TOY_CLASSES)
    assert other != shared                     # a different fold validates on others


@pytest.mark.parametrize("protocol", ["labels1", "frac20"])
def test_label_budget_runs_have_no_validation_labels(protocol):
    cs = toy_clipset(subjects=12, clips_per_class=2, size=16, frames=2, folds=4)
    full = build_run_data(cs, name="toy", fold=0, study_classes=TOY_CLASSES, val_fraction=0.25,
                          seed=0)
    semi = build_run_data(cs, name="toy", fold=0, study_classes=TOY_CLASSES, val_fraction=0.25,
                          seed=0, protocol=protocol)
    assert len(semi.val) == 0 and len(semi.val_labels) == 0
    # the validation subjects are left out of the run, not turned into training clips
    assert _subjects(semi.train) == _subjects(full.train)
    assert not _subjects(semi.train) & _subjects(full.val)


def test_merged_set_keeps_members_subjects_apart(tmp_path):
    for i, name in enumerate(["aa", "bb"]):
        cs = toy_clipset(subjects=8, size=16, frames=2, folds=4, seed=i, dataset=name)
        write_store(tmp_path / "aligned" / name, cs.clips, cs.intensity, cs.index)
    merged = load_dataset(tmp_path, "merged-aa+bb")
    data = build_run_data(merged, name="merged-aa+bb", fold=2, study_classes=TOY_CLASSES,
                          val_fraction=0.25, seed=0)
    assert {s.split(":")[0] for s in _subjects(data.test)} == {"aa", "bb"}   # union of fold 2
    assert not (_subjects(data.train) & _subjects(data.test))
    assert len(data.test) == 2 * 2 * len(TOY_CLASSES)


def test_noise_reaches_training_and_validation_labels_never_test_labels():
    cs = toy_clipset(subjects=20, clips_per_class=3, size=16, frames=2, folds=4)
    data = build_run_data(cs, name="toy", fold=0, study_classes=TOY_CLASSES, val_fraction=0.3,
                          seed=0, protocol="noisesym40")
    lookup = {c: i for i, c in enumerate(data.classes)}
    truth = data.train.index["label"].map(lookup).to_numpy()
    assert (data.clean_labels == truth).all()
    assert 0.3 < (data.train_labels != truth).mean() < 0.5
    # validation labels carry the same noise: one draw over training and validation clips
    clean_val = data.val.index["label"].map(lookup).to_numpy()
    val_rate = (data.val_labels != clean_val).mean()
    assert data.notes["val_noise_rate"] == pytest.approx(val_rate) and 0.2 < val_rate < 0.6
    n_flipped = (data.val_labels != clean_val).sum() + (data.train_labels != truth).sum()
    assert n_flipped == round(0.4 * (len(data.train) + len(data.val)))
    assert (data.test_labels == data.test.index["label"].map(lookup).to_numpy()).all()
    semi = build_run_data(cs, name="toy", fold=0, study_classes=TOY_CLASSES, val_fraction=0.2,
                          seed=0, protocol="labels1")
    assert (semi.train_labels >= 0).sum() == len(TOY_CLASSES)
    assert (semi.train_labels == -1).sum() == len(semi.train) - len(TOY_CLASSES)


def test_classes_are_the_study_classes_present():
    cs = toy_clipset(subjects=8, size=16, frames=2, classes=("anger", "fear", "surprise"))
    data = build_run_data(cs, name="toy", fold=0, val_fraction=0.2, seed=0,
                          study_classes=["surprise", "anger", "disgust", "fear"])
    assert data.classes == ("surprise", "anger", "fear")
    reduced = build_run_data(cs, name="toy", fold=0, val_fraction=0.2, seed=0,
                             study_classes=["anger", "fear"])
    assert reduced.classes == ("anger", "fear") and len(reduced.test) == 2 * 2


def test_empty_class_in_a_fold_names_the_fold_and_class():
    cs = toy_clipset(subjects=8, size=16, frames=2, folds=4)
    drop = (cs.index["label"] == "fear") & (cs.index["fold"] == 1)
    cs = cs.subset(~drop.to_numpy())
    build_run_data(cs, name="toy", fold=0, study_classes=TOY_CLASSES, val_fraction=0.2, seed=0)
    with pytest.raises(EmptyClassError, match=r"toy fold 1: no test clips of class\(es\) fear"):
        build_run_data(cs, name="toy", fold=1, study_classes=TOY_CLASSES, val_fraction=0.2, seed=0)


def test_missing_fold_is_an_error():
    cs = toy_clipset(subjects=4, size=16, frames=2, folds=4)
    with pytest.raises(ValueError, match="fold 7 holds no clips"):
        build_run_data(cs, name="toy", fold=7, study_classes=TOY_CLASSES, val_fraction=0.2, seed=0)


def test_synthetic_clips_join_training_only():
    cs = toy_clipset(subjects=8, size=16, frames=2, folds=4)
    syn = toy_clipset(subjects=4, size=16, frames=2, seed=9, dataset="gan")
    syn.index["synthetic"] = 1
    data = build_run_data(cs, name="toy", fold=0, study_classes=TOY_CLASSES, val_fraction=0.2,
                          seed=0, synthetic=syn, synthetic_ratio=0.5)
    n_real = len(cs) - len(data.val) - len(data.test)
    assert data.notes["n_synthetic"] == len(data.train) - n_real > 0
    assert data.train.index["synthetic"].iloc[n_real:].eq(1).all()
    assert "synthetic" not in data.val.index or data.val.index.get("synthetic", pd.Series([0])).eq(0).all()
    assert not set(data.test.index["clip_id"]) & set(syn.index["clip_id"])
    # labels of the synthetic rows match their store labels
    names = np.asarray(data.classes)
    assert (names[data.train_labels[n_real:]] == data.train.index["label"].iloc[n_real:]).all()


def test_pretraining_pool_never_holds_the_target_test_fold():
    stores = {n: toy_clipset(subjects=8, size=16, frames=2, folds=4, seed=i, dataset=n)
              for i, n in enumerate(["aa", "bb", "cc"])}
    config = {"study": {"datasets": ["aa", "bb", "merged-aa+cc"]},
              "train": {"pretrain": {"sources": [], "include_target_train": True}}}
    members = source_members(config, "aa")
    assert members == ["bb", "cc", "aa"]
    pool = pool_for(members, stores, "aa", fold=1)
    aa = pool.index[pool.index["subject"].str.startswith("aa:")]
    assert len(aa) and set(aa["fold"].astype(int)) == {0, 2, 3}
    assert (pool.index["subject"].str.startswith("bb:")).sum() == len(stores["bb"])
    merged_members = source_members(config, "merged-aa+cc")
    assert merged_members == ["bb", "aa", "cc"]
    pool = pool_for(merged_members, stores, "merged-aa+cc", fold=0)
    held = pool.index[~pool.index["subject"].str.startswith("bb:")]
    assert 0 not in set(held["fold"].astype(int))
    config["train"]["pretrain"]["include_target_train"] = False
    assert source_members(config, "aa") == ["bb", "cc"]
