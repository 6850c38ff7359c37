"""One grid point of the study: load, split, build, initialise, fit, evaluate once, write.

``train_run`` is what the ``train_model`` rule and ``ferstudy train`` call. The test fold is
touched exactly once, after training, with the model chosen on validation.
"""
from __future__ import annotations

import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from ferstudy import settings
from ferstudy.runkey import RunKey
from ferstudy.train import device as dev
from ferstudy.train.checkpoint import fingerprint
from ferstudy.train.data import RunData, build_run_data
from ferstudy.train.loop import FitResult, LoopConfig, fit
from ferstudy.train.metrics import classification_metrics
from ferstudy.train.outputs import (diagnostics_frame, predictions_frame, split_frame,
                                    write_run_outputs)
from ferstudy.train.predict import predict
from ferstudy.train.startup import StartupClock

# train.* keys left out of the resume fingerprint: runtime-only (one list: ferstudy.settings)
# and the pretrain section (an ft run's weights enter the fingerprint as `ft`)
RUNTIME_KEYS = set(settings.RUNTIME_KEYS) | {"pretrain"}


def arch_kwargs(data: RunData, tcfg: dict) -> dict[str, Any]:
    t, h, _, c = data.train.shape
    return {"num_classes": len(data.classes), "in_channels": c, "frames": t, "size": h,
            "width": float(tcfg["width"]), "onset_diff": bool(tcfg.get("onset_diff", False))}


def build_initialised(arch: str, init: str, kwargs: dict, *, seed: int, ft: dict | None,
                      log) -> tuple[torch.nn.Module, Any]:
    """The model with ``init`` applied (``ft``: ``ri`` first, then the pretrained tensors),
    and the ft load report (None for ``ri``)."""
    from ferstudy.archs import build_model
    from ferstudy.inits import INITS
    from ferstudy.train.pretrained import load_pretrained

    dev.seed_everything(dev.derive_seed(seed, -1))   # the init draws
    model = build_model(arch, **kwargs)
    INITS.get(init)(model)
    report = load_pretrained(model, arch=arch, log=log, **(ft or {})) if init == "ft" else None
    return model, report


def augment_function(augment: str, da_params: dict):
    from ferstudy.augment import AUGMENTS

    if not AUGMENTS.get(augment).affine:
        return None
    from ferstudy.augment.affine import clip_affine

    return lambda x, generator: clip_affine(x, generator, da_params)


def train_run(spec: RunKey, config: dict, out_dir: str | Path, *, clips, synthetic=None,
              pretrained: str | Path | None = None, threads: int = 1, log=print,
              on_epoch_end=None, startup: StartupClock | None = None) -> dict:
    """Train ``spec`` on ``clips`` (a ClipSet: the dataset or merged set) and write the run
    folder ``out_dir``; return metrics. ``pretrained``: the pretrain_model output for ``ft``.
    ``startup``: the job's start-up clock (laps: device, data, model, first step)."""
    from ferstudy.methods import METHODS

    from ferstudy.archs.zoo import clip_frames

    tcfg = config["train"]
    out_dir = Path(out_dir)
    # a still store (T = 1) repeated to the T of an arch built for clips (align.frames)
    clips = clips.with_frames(clip_frames(spec.arch, clips.shape[0],
                                          config.get("align", {}).get("frames")))
    clock = startup or StartupClock()
    clock.lap("data")
    device = dev.pick_device(tcfg["device"])
    dev.configure(device, threads=threads, deterministic=tcfg["deterministic"])
    if device.type == "cuda":
        torch.cuda.init()   # CUDA's start-up belongs to `device`, not to the first step
    clock.lap("device")
    sd = config.get("augment", {}).get("sd", {})
    data = build_run_data(clips, name=spec.dataset, fold=spec.fold,
                          study_classes=config["study"]["classes"],
                          val_fraction=tcfg["val_fraction"], seed=spec.seed,
                          protocol=spec.protocol, synthetic=synthetic,
                          synthetic_ratio=sd.get("ratio", 1.0),
                          synthetic_steps=sd.get("epoch_steps", "real"), log=log)
    clock.lap("data")
    log(f"run {str(spec)}: {len(data.train)} train ({data.notes.get('n_synthetic', 0)} "
        f"synthetic), {len(data.val)} val, {len(data.test)} test clips; classes "
        f"{list(data.classes)}; device {dev.describe(device)}, amp "
        f"{dev.amp_dtype(device, tcfg['amp'])}, threads {threads}")
    method_cfg = config.get("methods", {}).get(spec.method, {})
    kwargs = {**arch_kwargs(data, tcfg), **METHODS.get(spec.method).arch_options(method_cfg)}
    # an ri job's settings slice carries no train.pretrain (ferstudy.settings.train)
    ft = ft_source(tcfg["pretrain"], pretrained, spec) if spec.init == "ft" else None
    model, report = build_initialised(spec.arch, spec.init, kwargs, seed=spec.seed, ft=ft, log=log)
    model = dev.prepare_model(model, device)
    clock.lap("model")
    data.notes["ft"] = None if report is None else {
        "source": report.source, "sources": report.sources, **report.pool,
        "loaded": len(report.loaded),
        "adapted": len(report.adapted), "reinitialised": len(report.reinitialised)}
    method = METHODS.get(spec.method)(method_cfg, num_classes=len(data.classes),
                                      embed_dim=model.embed_dim)
    loop_cfg = LoopConfig.from_config(tcfg)
    print_cfg = {k: v for k, v in tcfg.items() if k not in RUNTIME_KEYS}
    key = fingerprint({"run": asdict(spec), "train": print_cfg, "kwargs": kwargs,
                       "method": config.get("methods", {}).get(spec.method),
                       "augment": config.get("augment"), "n": [len(data.train), len(data.val)],
                       "ft": str(ft)})
    result = fit(model, method, data, loop_cfg, device=device, seed=spec.seed, threads=threads,
                 augment_fn=augment_function(spec.augment, config.get("augment", {}).get("da", {})),
                 checkpoint_path=out_dir / "checkpoint.pt", fingerprint=key, log=log,
                 on_epoch_end=on_epoch_end,
                 optimistic_probe=optimistic_probe(config, spec, data, device),
                 on_first_step=lambda: (clock.first_step(), log(clock.summary())))
    metrics = finish(spec, config, out_dir, data, model, method, result, kwargs, device, threads, log)
    (out_dir / "checkpoint.pt").unlink(missing_ok=True)
    return metrics


def optimistic_probe(config: dict, spec: RunKey, data: RunData, device: torch.device):
    """For a dataset on its release's train/test split only (RAF-DB ``partition: official``):
    each epoch's test accuracy, for the separate ``accuracy_optimistic`` column (the papers'
    best epoch on test). Never used to select, stop or report the run's own accuracy."""
    from ferstudy.datasets import DATASETS

    entry = config.get("datasets", {}).get(spec.dataset)
    if not entry or not DATASETS.get(entry.get("adapter", spec.dataset)).official_split(
            entry.get("options")):
        return None

    def probe(model) -> float:
        probs, _ = predict(model, data.test.clips, device=device,
                           batch_size=config["train"]["batch_size"] * 2, amp=config["train"]["amp"])
        return float((probs.argmax(1) == data.test_labels).mean())

    return probe


def ft_source(pcfg: dict, pretrained: str | Path | None, spec: RunKey) -> dict:
    """Where ``ft`` weights come from: train.pretrain.checkpoint (may hold {arch}, {dataset},
    {fold}) > train.pretrain.torchvision > the pretrain_model output."""
    if pcfg.get("checkpoint"):
        path = pcfg["checkpoint"].format(arch=spec.arch, dataset=spec.dataset, fold=spec.fold)
        return {"checkpoint": path, "keep_head": pcfg["keep_head"]}
    if pcfg.get("torchvision"):
        return {"torchvision": True, "keep_head": pcfg["keep_head"]}
    return {"checkpoint": pretrained, "keep_head": pcfg["keep_head"]}


def finish(spec: RunKey, config: dict, out_dir: Path, data: RunData, model, method,
           result: FitResult, kwargs: dict, device: torch.device, threads: int, log) -> dict:
    """Evaluate the selected model once on the test fold and write the run folder."""
    evaluated = method.eval_model(model)
    evaluated.load_state_dict(result.best_state)
    t0 = time.perf_counter()
    probs, emb = predict(evaluated, data.test.clips, device=device,
                         batch_size=config["train"]["batch_size"] * 2, amp=config["train"]["amp"])
    metrics = classification_metrics(data.test_labels, probs.argmax(1), data.classes)
    metrics.update({
        "epochs": result.epochs, "best_epoch": result.best_epoch,
        "stopped_early": result.stopped_early, "wall_time_s": round(result.wall_time_s, 3),
        "test_time_s": round(time.perf_counter() - t0, 3),
        "device": dev.describe(device), "amp": str(dev.amp_dtype(device, config["train"]["amp"])),
        "threads": threads, "torch": torch.__version__, "python": platform.python_version(),
        "n_train": len(data.train), "n_val": len(data.val), "n_test": len(data.test),
        "n_labelled": data.notes["n_labelled"], "n_synthetic": data.notes.get("n_synthetic", 0),
        "actual_noise_rate": data.notes["actual_noise_rate"],
        "val_noise_rate": data.notes.get("val_noise_rate"),
        # optimistic (best epoch chosen on test, as the official SCN code): comparison only
        "accuracy_optimistic": max((r["test_acc_optimistic"] for r in result.curve
                                    if "test_acc_optimistic" in r), default=None),
        # datasets behind the ft weights: a cross-dataset test on one of them is not "unseen"
        "pretrain_sources": (data.notes["ft"] or {}).get("sources", []),
        # which labels of the target the pool held ("full", "target excluded") and its size
        "pretrain_protocol": (data.notes["ft"] or {}).get("pool_protocol"),
        "pretrain_subjects": (data.notes["ft"] or {}).get("pool_subjects"),
        "ft_tensors": data.notes["ft"],
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "run": str(spec),
    })
    write_audit_files(out_dir, data, spec)
    write_run_outputs(out_dir, model_blob={
        "arch": spec.arch, "state_dict": result.best_state, "classes": data.classes,
        "arch_kwargs": kwargs, "embed_dim": model.embed_dim, "method_state": method.state_dict()},
        metrics=metrics, predictions=predictions_frame(data.test.index, data.test_labels, probs,
                                                       data.classes),
        embeddings=emb, curve=result.curve, config=config, run=asdict(spec),
        diagnostics=diagnostics_frame(spec.method, method.diagnostics(result.curve)))
    log(f"test: accuracy {metrics['accuracy']:.4f} macro_f1 {metrics['macro_f1']:.4f} "
        f"(model of epoch {result.best_epoch + 1}/{result.epochs}); wrote {out_dir}")
    return metrics


def write_audit_files(out_dir: Path, data: RunData, spec: RunKey) -> None:
    from ferstudy import atomic
    from ferstudy.protocols import write_protocol_file

    atomic.write_csv(out_dir / "split.csv", split_frame(data))
    if spec.protocol != "full" and data.protocol is not None:
        n_real = len(data.protocol.train_labels)
        write_protocol_file(out_dir / "protocol.csv",
                            data.train.index["clip_id"].astype(str).to_numpy()[:n_real],
                            data.protocol, data.classes)

