#!/usr/bin/env bash
# One prepared GPU session (issue #24): every figure `ferstudy plan --cost` needs, measured in
# one call of under 10 minutes (stage limits 280 + 100 + 30 + 120 s, 5 s each to die when
# killed, plus the wheel install), each stage under its own limit so that a slow stage costs
# only itself (gpu_check and startup_tax --into write their JSON per stage / mode).
#
#   bash benchmarks/gpu_session.sh            # all stages, into $OUT (else results/benchmarks/session)
#   bash benchmarks/gpu_session.sh check plan # gpu_check + plan --cost only
#   STAGE_S="check=400 grid=300" bash benchmarks/gpu_session.sh   # other limits
#   CHECK_ARGS=... STARTUP_ARGS=... GRID_ARGS=... bash benchmarks/gpu_session.sh
#       # appended to a stage's command (argparse: the last value wins); the slow test runs
#       # the whole session on CPU this way (tests/test_gpu_session.py)
#
# Stages, in order:
#   check    benchmarks/gpu_check.py at full size: every arch at bf16, the GAN, K = 1 and 4
#            processes of resnet3d, vgg3d and msanet without and with CUDA MPS, one job's
#            start-up, the cost of train.deterministic (resnet3d, msanet)
#            -> gpu_check_h200.json (the file to commit as benchmarks/gpu_check_h200.json)
#   startup  benchmarks/startup_tax.py --device cuda: start-up per run in-process, through a
#            warm train-worker, and through its pre-warmed spares; added to that JSON
#   plan     ferstudy plan --config studies/pitfalls.yaml --cost from that JSON -> plan_cost.txt
#   grid     benchmarks/gpu_grid.py: a slice of the pitfalls grid through Snakemake and
#            profiles/local-gpu under MPS with a train-worker -> gpu_grid.json
#
# On a machine without network (the device tool's), carry .whl/ from
# `python benchmarks/device_wheels.py` (Snakemake's closure and the rest ferstudy needs that the
# machine lacks, for its Python): where that Python has no Snakemake, they are installed into
# a private folder first.
set -uo pipefail
cd "$(dirname "$0")/.."
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(check startup plan grid)
out=${OUT:-results/benchmarks/session}
mkdir -p "$out"
py=${PYTHON:-python3}
declare -A limit=([check]=280 [startup]=100 [plan]=30 [grid]=120)
for kv in ${STAGE_S:-}; do limit[${kv%%=*}]=${kv#*=}; done
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}"

if compgen -G ".whl/*.whl" >/dev/null && ! "$py" -c "import snakemake" 2>/dev/null; then
    site=${TMPDIR:-/tmp}/ferstudy-site
    "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$site" .whl/*.whl || exit 1
    export PYTHONPATH="$PYTHONPATH:$site" PATH="$site/bin:$PATH"
fi

figures="$out/gpu_check_h200.json"
{ date -u; nvidia-smi 2>&1 | head -15; "$py" -c 'import torch; print("torch", torch.__version__,
"cuda", torch.version.cuda, torch.cuda.is_available() and torch.cuda.get_device_name(0))'
  git log --oneline -1 2>/dev/null; } >"$out/machine.txt" 2>&1

run_stage() {   # name, command...: under its limit, output to the screen and $out/<name>.log
    local name=$1; shift
    local t0=$SECONDS
    echo "== $name (limit ${limit[$name]} s): $*"
    timeout --kill-after=5 "${limit[$name]}" "$@" 2>&1 | tee "$out/$name.log"
    local rc=${PIPESTATUS[0]}
    echo "== $name: exit $rc after $((SECONDS - t0)) s" | tee -a "$out/$name.log"
    return 0
}

for stage in "${stages[@]}"; do
    case $stage in
    check)
        run_stage check "$py" benchmarks/gpu_check.py --amp bf16 --no-align \
            --share 1,4 --share-archs resnet3d vgg3d msanet --share-steps 100 \
            --deterministic-cost --deterministic-archs resnet3d msanet --out "$figures" \
            ${CHECK_ARGS:-} ;;
    startup)
        run_stage startup "$py" benchmarks/startup_tax.py --device cuda --runs 3 \
            --frames 16 --size 112 --width 1.0 --json "$out/startup_tax.json" --into "$figures" \
            ${STARTUP_ARGS:-} ;;
    plan)
        run_stage plan "$py" -m ferstudy.cli plan --config studies/pitfalls.yaml --cost \
            --gpu-check "$figures"
        cp "$out/plan.log" "$out/plan_cost.txt" ;;
    grid)
        run_stage grid "$py" benchmarks/gpu_grid.py --mps --worker --gpu-check "$figures" \
            --out "$out/gpu_grid.json" ${GRID_ARGS:-} ;;
    *)
        echo "unknown stage $stage (check, startup, plan, grid)" >&2; exit 2 ;;
    esac
done
ls -l "$out"
