"""Devices, mixed precision, memory layout and seeding: everything that differs CPU vs GPU.

CUDA when present (bf16 autocast where the GPU supports it, else fp16 with a grad scaler;
channels-last weights and inputs), otherwise CPU in float32 with deterministic algorithms.
"""
from __future__ import annotations

import contextlib
import os
import random
import zlib

import numpy as np
import torch

# cuBLAS's workspace for deterministic runs (the train-worker's spares set it before CUDA init)
CUBLAS_WORKSPACE_DEFAULT = ":4096:8"


def pick_device(name: str = "auto") -> torch.device:
    """``auto`` -> cuda if available else cpu; ``cuda`` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(f"train.device is {name!r} but torch sees no CUDA GPU; "
                           f"set train.device: auto (or cpu)")
    return device


def amp_dtype(device: torch.device, mode: str = "auto") -> torch.dtype | None:
    """The autocast dtype for ``train.amp`` (auto | bf16 | fp16 | off); None = float32.
    AMP is a CUDA feature here: CPU runs stay float32 (bf16 on CPU is slow and changes results)."""
    if device.type != "cuda" or mode == "off":
        return None
    if mode == "fp16":
        return torch.float16
    if mode == "bf16" or torch.cuda.is_bf16_supported():
        return torch.bfloat16
    return torch.float16


def autocast(device: torch.device, dtype: torch.dtype | None):
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


def make_scaler(device: torch.device, dtype: torch.dtype | None):
    """A gradient scaler only for fp16 (bf16 has float32's range and needs none)."""
    return torch.amp.GradScaler(device.type, enabled=dtype == torch.float16)


def prepare_model(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    """Move to ``device``; on CUDA use channels-last weights (tensor cores want NHWC/NDHWC)."""
    model = model.to(device)
    return channels_last(model) if device.type == "cuda" else model


def channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """2D conv weights to NHWC, 3D conv weights to NDHWC (one format per tensor rank: a
    model-wide ``.to(memory_format=channels_last)`` fails on 5-D weights)."""
    for module in model.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.to(memory_format=torch.channels_last)
        elif isinstance(module, torch.nn.Conv3d):
            module.to(memory_format=torch.channels_last_3d)
    return model


def to_input(x_uint8: torch.Tensor, device: torch.device) -> torch.Tensor:
    """uint8 clips (B, T, H, W, C) -> float (B, C, T, H, W) in [0, 1] on ``device``.

    The uint8 batch crosses the bus (4x less than float) and is converted on the device.
    (B, T, H, W, C) permuted to (B, C, T, H, W) is already channels-last-3d in memory.
    """
    x = x_uint8.to(device, non_blocking=True)
    x = x.permute(0, 4, 1, 2, 3).float().div_(255.0)
    return x if device.type == "cuda" else x.contiguous()


def derive_seed(*parts: int) -> int:
    """A 31-bit seed from integers (run seed, epoch, stream id): stable across processes."""
    return zlib.crc32(",".join(map(str, parts)).encode()) & 0x7FFFFFFF


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def configure(device: torch.device, *, threads: int, deterministic: bool) -> None:
    """Threads and determinism. CPU: deterministic algorithms (same seed -> same numbers).
    CUDA: deterministic cuDNN/cuBLAS when asked, else cuDNN autotuning for speed."""
    torch.set_num_threads(max(1, threads))
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE_DEFAULT)
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"cuda:{torch.cuda.get_device_name(device)}"
    return "cpu"
