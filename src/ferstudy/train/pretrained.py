"""``ft`` initialisation: partial loading of pretrained weights with a new classification head.

Sources (``train.pretrain``): the ``pretrain_model`` rule's ``model.pt`` (default), a
checkpoint file (``checkpoint``), or torchvision's ImageNet / Kinetics-400 ResNet weights
(``torchvision``; only when torchvision is installed, which ferstudy never requires).

A tensor loads when the model has a tensor of the same name and shape; a 3-channel (RGB)
first conv is summed over its input channels for a grey model. The classifier ``head.*`` is
always re-initialised (a new head for the run's classes) unless ``keep_head``. Everything
else the checkpoint lacks keeps its ``ri`` (Xavier) init. The report lists every tensor.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import torch

# arch -> torchvision builder whose state dict maps onto the arch's backbone
TORCHVISION = {
    "resnet2d": ("models", "resnet18"),
    "resnet2d_lstm": ("models", "resnet18"),
    "resnet3d": ("models.video", "r3d_18"),
    "resnet3d_lstm": ("models.video", "r3d_18"),
}
# torchvision.models.video naming -> ours (torchvision.models ResNet names already match)
_VIDEO_KEYS = [(r"^stem\.0\.", "conv1."), (r"^stem\.1\.", "bn1."),
               (r"\.conv1\.0\.", ".conv1."), (r"\.conv1\.1\.", ".bn1."),
               (r"\.conv2\.0\.", ".conv2."), (r"\.conv2\.1\.", ".bn2.")]


class CheckpointError(ValueError):
    """A missing or incompatible ``ft`` checkpoint (the message names file and arch)."""


@dataclass
class LoadReport:
    source: str
    loaded: list[str] = field(default_factory=list)
    adapted: list[str] = field(default_factory=list)      # loaded after a channel adaptation
    skipped: list[str] = field(default_factory=list)      # in the source, not used (with why)
    reinitialised: list[str] = field(default_factory=list)  # in the model, not from the source
    sources: list[str] = field(default_factory=list)   # datasets the weights were trained on
    pool: dict = field(default_factory=dict)   # pool, pool_protocol, pool_subjects (model.pt)

    def lines(self) -> list[str]:
        out = [f"ft weights from {self.source}: {len(self.loaded)} tensors loaded "
               f"({len(self.adapted)} adapted), {len(self.skipped)} skipped, "
               f"{len(self.reinitialised)} re-initialised"]
        out += [f"  loaded: {k}" for k in self.loaded]
        out += [f"  adapted: {k}" for k in self.adapted]
        out += [f"  skipped: {k}" for k in self.skipped]
        out += [f"  re-initialised: {k}" for k in self.reinitialised]
        return out


POOL_KEYS = ("pool", "pool_protocol", "pool_subjects", "excluded_fold", "excluded_val_subjects")


def read_checkpoint_state(path: str | Path, arch: str) -> tuple[dict[str, torch.Tensor], list[str]]:
    """State dict (and the pretraining pool's datasets, when the file records them) from a
    ferstudy ``model.pt``, a training ``checkpoint.pt`` or a bare state dict; a ferstudy file
    made for another architecture is refused."""
    state, meta = read_checkpoint(path, arch)
    return state, meta.get("sources", [])


def read_checkpoint(path: str | Path, arch: str) -> tuple[dict[str, torch.Tensor], dict]:
    """``read_checkpoint_state`` with everything the file records about its pool."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"ft checkpoint {path} not found (expected weights for arch "
                              f"{arch!r}); run the pretrain_model rule or fix train.pretrain.checkpoint")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:
        raise CheckpointError(f"ft checkpoint {path} is not a readable torch file ({err}); "
                              f"expected weights for arch {arch!r}") from None
    if isinstance(blob, dict) and "arch" in blob and blob["arch"] != arch:
        raise CheckpointError(f"ft checkpoint {path} holds arch {blob['arch']!r}, but this run "
                              f"trains {arch!r}; point train.pretrain.checkpoint at a {arch} model")
    meta = {"sources": list(blob.get("sources", []))} if isinstance(blob, dict) else {}
    if isinstance(blob, dict):
        meta.update({k: blob[k] for k in POOL_KEYS if k in blob})
    for key in ("state_dict", "model"):
        if isinstance(blob, dict) and isinstance(blob.get(key), dict):
            blob = blob[key]
            break
    if not isinstance(blob, dict) or not all(isinstance(v, torch.Tensor) for v in blob.values()):
        raise CheckpointError(f"ft checkpoint {path} holds no state dict (expected weights for "
                              f"arch {arch!r})")
    return blob, meta


def torchvision_state(arch: str, log=print) -> dict[str, torch.Tensor]:
    """torchvision's pretrained weights mapped to ``arch``'s names. Needs width 1.0 for the
    shapes to match. Without torchvision the run stops: an ``ft`` run that silently kept its
    ``ri`` weights would be reported as fine-tuned."""
    if arch not in TORCHVISION:
        raise CheckpointError(f"no torchvision weights map onto arch {arch!r}; torchvision "
                              f"init exists for {', '.join(sorted(TORCHVISION))}")
    try:
        import importlib

        module, name = TORCHVISION[arch]
        builder = getattr(importlib.import_module(f"torchvision.{module}"), name)
    except ImportError:
        raise CheckpointError("config key 'train.pretrain.torchvision' is true but torchvision "
                              "is not installed: pip install -e '.[torchvision]', or name "
                              "train.pretrain.sources / train.pretrain.checkpoint") from None
    state = builder(weights="DEFAULT").state_dict()   # downloads into the torch hub cache once
    return map_torchvision_keys(state, video=module == "models.video")


def map_torchvision_keys(state: dict[str, torch.Tensor], *, video: bool) -> dict[str, torch.Tensor]:
    """torchvision ResNet / R3D names -> ``backbone.<ours>``; its ``fc`` is dropped."""
    out = {}
    for key, value in state.items():
        if key.startswith("fc."):
            continue
        if video:
            for pattern, repl in _VIDEO_KEYS:
                key = re.sub(pattern, repl, key)
        out["backbone." + key] = value
    return out


def load_partial(model: torch.nn.Module, source: dict[str, torch.Tensor], *, name: str,
                 keep_head: bool = False) -> LoadReport:
    """Copy shape-matching tensors of ``source`` into ``model`` (in place) and report."""
    target = model.state_dict()
    report = LoadReport(name)
    new = {}
    for key, value in source.items():
        if key not in target:
            report.skipped.append(f"{key} (no such tensor in the model)")
        elif key.startswith("head.") and not keep_head:
            report.skipped.append(f"{key} (classification head: re-initialised)")
        elif value.shape == target[key].shape:
            new[key] = value
            report.loaded.append(key)
        elif (value.dim() == target[key].dim() >= 4 and value.shape[1] == 3
              and target[key].shape[1] == 1 and value.shape[2:] == target[key].shape[2:]
              and value.shape[0] == target[key].shape[0]):
            new[key] = value.sum(1, keepdim=True)      # RGB filters -> grey: same response
            report.adapted.append(key)
        else:
            report.skipped.append(f"{key} (shape {tuple(value.shape)} vs model "
                                  f"{tuple(target[key].shape)})")
    report.reinitialised = [k for k in target if k not in new]
    model.load_state_dict({**target, **new})
    return report


def load_pretrained(model: torch.nn.Module, *, arch: str, checkpoint: str | Path | None = None,
                    torchvision: bool = False, keep_head: bool = False, log=print) -> LoadReport:
    """Initialise ``model`` for ``ft`` from ``checkpoint`` or torchvision; log the report."""
    if checkpoint is not None:
        (state, meta), name = read_checkpoint(checkpoint, arch), str(checkpoint)
        sources = meta.pop("sources", [])
    elif torchvision:
        state, name = torchvision_state(arch, log), f"torchvision weights for {arch}"
        sources, meta = ["torchvision"], {"pool": "torchvision", "pool_protocol": "external"}
    else:
        raise CheckpointError(f"ft for arch {arch!r} needs a checkpoint: the pretrain_model "
                              f"output, train.pretrain.checkpoint or train.pretrain.torchvision")
    report = load_partial(model, state, name=name, keep_head=keep_head)
    report.sources, report.pool = sources, meta
    backbone = [k for k in report.loaded + report.adapted if not k.startswith("head.")]
    if not backbone:
        raise CheckpointError(f"ft checkpoint {name}: no tensor matches arch {arch!r} (width, "
                              f"channels or arch differ); skipped: {report.skipped[:5]}")
    for line in report.lines():
        log(line)
    return report
