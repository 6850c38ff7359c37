"""Wheels for a GPU machine without network: what ferstudy's GPU benchmarks need there and the
machine's own Python lacks, for CPython 3.12 on x86-64 Linux, into ``.whl/``.

    python benchmarks/device_wheels.py                 # download into .whl/ (git-ignored)
    python benchmarks/device_wheels.py --list          # print the requirements, download nothing

The requirement set is the dependency closure, as installed in this environment (same
versions), of Snakemake (for ``benchmarks/gpu_grid.py`` and ``startup_tax.py --snakemake``)
and of ferstudy's own core and learning requirements, minus torch and minus the packages the
target machine already has (``--have``, default: the H200 image's list as read on 2026-11-17,
see the note in README "Checking a GPU"). Binary wheels are fetched for ``--python-version``
and the manylinux x86-64 platforms; a requirement published only as an sdist (pure Python,
e.g. connection-pool 0.0.3, baycomp 1.0.3) is built into a wheel here. On the target::

    python3 -m pip install -q --no-index --no-deps --target /tmp/site .whl/*.whl
    export PYTHONPATH=/tmp/site:$PWD/src

``benchmarks/gpu_session.sh`` does that before it measures.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
ROOTS = ("snakemake", "numpy", "pandas", "pyyaml", "jsonschema", "pyarrow", "scipy",
         "statsmodels", "baycomp", "scikit-learn", "matplotlib")
NEVER = frozenset({"torch"})   # the machine's own CUDA build; a CPU wheel would shadow it
# the nvidia-h200 image's Python packages (KINDS.md of the device tool, read 2026-11-17)
H200_HAS = frozenset(canonicalize_name(n) for n in """
absl-py accelerate aiofiles aiohappyeyeballs aiohttp aiosignal annotated-doc anyio attrs botorch
build certifi charset-normalizer chex click cloudpickle cmake colorama contourpy coverage
cuda-bindings cuda-core cuda-pathfinder cuda-toolkit cupy-cuda13x cycler cython diffrax e3nn
einops equinox etils execnet filelock flatbuffers flax fonttools formulaic frozenlist fsspec
gpytorch grpcio h11 h5py hf-xet httpcore httpx huggingface-hub humanize hypothesis idna imageio
iniconfig interface-meta jax jaxlib jaxtyping jinja2 joblib kiwisolver lazy-loader lightning
lightning-utilities linear-operator lineax llvmlite lxml markdown markdown-it-py markupsafe
matplotlib mdurl meson ml-dtypes mpi4py mpmath msgpack multidict multipledispatch
mypy-extensions nanobind narwhals networkx ninja numba numba-cuda numpy numpyro nvidia-ml-py
onnx onnx-ir onnxruntime onnxscript opencv-python-headless optax opt-einsum opt-einsum-fx
optimistix orbax-checkpoint packaging pandas pathspec patsy peft pillow pip pluggy portalocker
prometheus-client propcache protobuf psutil pyarrow pybind11 py-cpuinfo pygments pyparsing
pyproject-hooks pyre-extensions pytest pytest-benchmark pytest-cov pytest-mock pytest-timeout
pytest-xdist python-dateutil pytorch-lightning pyyaml regex requests rich sacrebleu safetensors
scikit-build-core scikit-image scikit-learn scipy seaborn sentencepiece sentence-transformers
setuptools shellingham simplejson six sortedcontainers statsmodels sympy tabulate tensorboard
tensorboard-data-server tensorstore threadpoolctl tifffile tiktoken timm tokenizers toolz torch
torchaudio torchdiffeq torch-geometric torchmetrics torchvision tqdm transformers treescope
triton typer typing-extensions typing-inspect urllib3 uvloop wadler-lindig werkzeug wheel wrapt
xarray xxhash yarl zipp""".split())
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_24_x86_64",
             "manylinux_2_17_x86_64", "manylinux2014_x86_64", "manylinux1_x86_64")


def closure(roots, python_version: str) -> dict[str, str]:
    """{canonical name: installed version} of ``roots`` and everything they require (extras
    followed; markers evaluated for Linux CPython ``python_version``)."""
    env = dict(default_environment(), python_version=python_version,
               python_full_version=f"{python_version}.0", sys_platform="linux",
               platform_system="Linux", os_name="posix", implementation_name="cpython",
               platform_python_implementation="CPython")
    found: dict[str, str] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    todo = [Requirement(r) for r in roots]
    while todo:
        req = todo.pop()
        name, extras = canonicalize_name(req.name), tuple(sorted(req.extras))
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            raise SystemExit(f"{name} is required but not installed here: install the project "
                             f"first (README 'Setup'), then rerun") from None
        found[name] = dist.version
        for line in dist.requires or []:
            sub = Requirement(line)
            if sub.marker is None or any(sub.marker.evaluate(dict(env, extra=e))
                                         for e in (extras or ("",))):
                todo.append(sub)
    return found


def needed(found: dict[str, str], have: frozenset[str]) -> list[str]:
    return sorted(f"{n}=={v}" for n, v in found.items() if n not in have and n not in NEVER)


def fetch(reqs: list[str], dest: Path, python_version: str) -> list[str]:
    """Download binary wheels; build the sdist-only ones here. Returns what failed."""
    dest.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip"]
    binary = pip + ["download", "-q", "--no-deps", "--only-binary=:all:", "--implementation",
                    "cp", "--python-version", python_version, "-d", str(dest)]
    for p in PLATFORMS:
        binary += ["--platform", p]
    failed = []
    for req in reqs:
        if subprocess.run(binary + [req], capture_output=True).returncode == 0:
            continue
        built = subprocess.run(pip + ["wheel", "-q", "--no-deps", "-w", str(dest), req],
                               capture_output=True, text=True)
        if built.returncode != 0 or not _pure(dest, req):
            failed.append(req)
    return failed


def _pure(dest: Path, req: str) -> bool:
    """A wheel built here is usable there only if pure Python (py3-none-any)."""
    name = canonicalize_name(req.split("==")[0]).replace("-", "_")
    return any(w.name.endswith("-none-any.whl") for w in dest.glob("*.whl")
               if canonicalize_name(w.name.split("-")[0]).replace("-", "_") == name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=ROOT / ".whl")
    parser.add_argument("--python-version", default="3.12")
    parser.add_argument("--have", type=Path, default=None,
                        help="file of package names the target has (one per line or "
                             "space-separated; default: the H200 image's list)")
    parser.add_argument("--list", action="store_true", help="print the requirements only")
    args = parser.parse_args(argv)
    have = H200_HAS if args.have is None else frozenset(
        canonicalize_name(n) for n in args.have.read_text().split())
    reqs = needed(closure(ROOTS, args.python_version), have)
    if args.list:
        print("\n".join(reqs))
        return 0
    failed = fetch(reqs, args.dest, args.python_version)
    size = sum(w.stat().st_size for w in args.dest.glob("*.whl")) / 2**20
    print(f"{len(reqs) - len(failed)} of {len(reqs)} wheels in {args.dest} ({size:.1f} MiB)")
    if failed:
        print("no usable wheel for: " + ", ".join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
