#!/usr/bin/env bash
# Real SLURM test: stand up a single-node SLURM (slurmctld + slurmd + munge) on this machine,
# run the tiny study through `snakemake --profile profiles/slurm`, run it again locally, and
# check that (1) every job went through SLURM with the profile's requests and finished
# COMPLETED in SLURM's own records, (2) the outputs of both runs are equal.
#
#   sudo tests/cluster/run_slurm_test.sh [WORKDIR]        (opt-in in pytest: FERSTUDY_SLURM_TEST=1)
#
# Needs: root (daemons, /etc/slurm), Debian/Ubuntu packages slurm-wlm + munge (installed with
# apt-get when missing, unless FERSTUDY_SLURM_INSTALL=0), the project venv (.venv) and the
# fetched face models/media (`make resources`). Nothing leaves the machine.
#
# Why /etc/slurm: the plugin's job-step executor (snakemake-executor-plugin-slurm-jobstep
# 0.6.x) strips every SLURM_* variable except the job ids from the environment of the `srun`
# it runs inside each job, SLURM_CONF included, so srun only finds the compiled-in default
# /etc/slurm/slurm.conf. The script refuses to touch an /etc/slurm/slurm.conf it did not write
# and removes its own files when it ends.
#
# Why `--slurm-packed-status-command squeue` (the profile's executor is ferstudy's `slurm-packed`,
# which takes the SLURM plugin's settings under its own prefix): there is no slurmdbd here, so `sacct` (the plugin's
# default status command when the binary exists) answers "accounting storage is disabled".
# squeue sees finished jobs for MinJobAge = 3600 s. Finished jobs are also written by
# jobcomp/filetxt, which `sacct -c` reads: that is the durable record the checks use.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=${1:-$(mktemp -d /tmp/ferstudy-slurm.XXXXXX)}
WORK=$(mkdir -p "$WORK" && cd "$WORK" && pwd)
BIN=${FERSTUDY_VENV:-$REPO/.venv}/bin
STATE=$WORK/slurm
MARK="# ferstudy cluster test: written by tests/cluster/run_slurm_test.sh"
HOST=$(hostname -s)
CTLD_PORT=${FERSTUDY_SLURMCTLD_PORT:-6817}
# The node as declared to SLURM (not this machine's cores): the profile's train group books
# gpu_slots x 8 = 32 CPUs.
NODE_CPUS=32
SLURMD_PORT=${FERSTUDY_SLURMD_PORT:-6818}
T0=$(date +%s)

say() { printf '[slurm-test %4ss] %s\n' "$(( $(date +%s) - T0 ))" "$*"; }
die() { say "FAIL: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "needs root (starts slurmctld/slurmd/munged, writes /etc/slurm)"
[ -x "$BIN/snakemake" ] || die "no $BIN/snakemake: run \`make setup\` first"

# ---- 1. packages -----------------------------------------------------------------------
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    [ "${FERSTUDY_SLURM_INSTALL:-1}" = 1 ] || die "slurm-wlm/munge not installed"
    say "installing slurm-wlm and munge with apt-get"
    export DEBIAN_FRONTEND=noninteractive
    # a mirror hiccup is no test failure: three tries, a pause between them
    for try in 1 2 3; do
        apt-get update -qq && apt-get install -y -qq slurm-wlm munge >/dev/null && break
        [ "$try" = 3 ] && die "apt-get could not install slurm-wlm and munge"
        say "apt-get failed (try $try of 3); retrying in 20 s"; sleep 20
    done
fi
say "$(slurmctld -V)"

# ---- 2. munge (authentication between SLURM daemons and clients) --------------------------
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    say "starting munged"
    [ -s /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom bs=1 count=1024 \
        of=/etc/munge/munge.key 2>/dev/null; chown munge:munge /etc/munge/munge.key; \
        chmod 400 /etc/munge/munge.key; }
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown munge:munge /run/munge /var/log/munge /var/lib/munge
    runuser -u munge -- /usr/sbin/munged
    for _ in $(seq 20); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.5; done
    munge -n | unmunge >/dev/null || die "munged does not answer"
fi

# ---- 3. single-node cluster config -------------------------------------------------------
for f in /etc/slurm/slurm.conf /etc/slurm/gres.conf; do
    if [ -e "$f" ] && ! grep -qF "$MARK" "$f"; then
        die "$f exists and was not written by this test: refusing to replace a real cluster config"
    fi
done
if pgrep -x slurmctld >/dev/null || pgrep -x slurmd >/dev/null; then
    die "a slurmctld/slurmd already runs here; stop it first (this test starts its own)"
fi
rm -rf "$STATE" && mkdir -p "$STATE/ctld" "$STATE/spool"
# Two count-only GPUs: character devices that are /dev/null underneath. SLURM books them for
# `--gpus=1` like real ones; the jobs find no CUDA and train on CPU.
mknod -m 666 "$STATE/gpu0" c 1 3 && mknod -m 666 "$STATE/gpu1" c 1 3
mkdir -p /etc/slurm
{ echo "$MARK"; sed -e "s#@HOST@#$HOST#g" -e "s#@CTLD_PORT@#$CTLD_PORT#" \
      -e "s#@SLURMD_PORT@#$SLURMD_PORT#" -e "s#@STATE@#$STATE#g" -e "s#@CPUS@#$NODE_CPUS#" \
      -e "s#@MEM_MB@#131072#" -e "s#@GPUS@#2#" "$REPO/tests/cluster/slurm.conf"; } \
    > /etc/slurm/slurm.conf
printf '%s\nAutoDetect=off\nNodeName=%s Name=gpu File=%s/gpu[0-1]\n' "$MARK" "$HOST" "$STATE" \
    > /etc/slurm/gres.conf
export SLURM_CONF=/etc/slurm/slurm.conf

cleanup() {
    local rc=$?
    say "stopping SLURM (workdir kept: $WORK)"
    scontrol shutdown >/dev/null 2>&1 || true
    for pid in "$STATE/slurmctld.pid" "$STATE/slurmd.pid"; do
        [ -s "$pid" ] && kill "$(cat "$pid")" 2>/dev/null || true
    done
    sleep 1
    rm -f /etc/slurm/slurm.conf /etc/slurm/gres.conf
    exit $rc
}
trap cleanup EXIT

# ---- 4. daemons --------------------------------------------------------------------------
slurmctld && slurmd || die "daemons did not start; see $STATE/slurmctld.log, $STATE/slurmd.log"
for _ in $(seq 60); do
    [ "$(sinfo -h -N -o %T 2>/dev/null)" = idle ] && break; sleep 0.5
done
[ "$(sinfo -h -N -o %T)" = idle ] || die "node not idle: $(sinfo -N 2>&1); see $STATE/slurmd.log"
say "cluster up: $(sinfo -h -N -o '%N cpus=%c mem=%mMB gres=%G %T')"
out=$(sbatch --parsable --wait -o "$STATE/hello.out" --wrap 'hostname') || die "sbatch hello failed"
grep -qx "$(hostname)" "$STATE/hello.out" || die "hello job wrote $(cat "$STATE/hello.out")"
say "sbatch works (job $out)"

# ---- 5. the tiny study through SLURM -----------------------------------------------------
export PATH=$BIN:$PATH
# Both runs use one snapshot of the code, so that an edit to the checkout while the test runs
# cannot make them differ: the snapshot's src/ comes first on PYTHONPATH, which Snakemake and
# its jobs inherit (the workflow itself never sets it).
CODE=$WORK/code
export PYTHONPATH=$CODE/src
rm -rf "$CODE" && mkdir -p "$CODE"
cp -r "$REPO/Snakefile" "$REPO/workflow" "$REPO/src" "$REPO/envs" "$REPO/profiles" "$CODE/"
find "$CODE" -name __pycache__ -prune -exec rm -rf {} +
for run in slurm local; do
    "$BIN/python" "$REPO/tests/cluster/tiny_study.py" "$WORK/$run" >/dev/null
done
# Outputs count as up to date by their times only: the fetched face models/media are copies,
# and Snakemake 9 may otherwise re-fetch them from PyPI ("Code has changed"), which a node
# without network cannot do.
TRIGGERS="--rerun-triggers mtime"
say "running the tiny study through profiles/slurm"
T_SLURM=$(date +%s)
(cd "$WORK/slurm" && snakemake -s "$CODE/Snakefile" -d . --configfile config.yaml \
    --profile "$CODE/profiles/slurm" \
    --slurm-packed-status-command squeue --slurm-packed-init-seconds-before-status-checks 2 \
    --slurm-packed-keep-successful-logs --retries 0 --latency-wait 10 $TRIGGERS \
    > snakemake.log 2>&1) || { tail -40 "$WORK/slurm/snakemake.log"; die "snakemake on SLURM failed"; }
T_SLURM=$(( $(date +%s) - T_SLURM ))
say "SLURM run done in ${T_SLURM}s"
# SLURM's view of the run's jobs now, before the local run: squeue forgets a finished job
# MinJobAge seconds after it ended, and the local run can take that long on a loaded machine.
squeue --states=all -h -O "JobID:|,Name:|,State:|,tres-per-job:|,NumCPUs:|,MinMemory:|,TimeLimit:|,Comment:|,tres-per-node:" \
    > "$WORK/squeue.txt"

# ---- 6. the same study locally, for comparison -------------------------------------------
say "running the tiny study locally"
T_LOCAL=$(date +%s)
# Same thread counts as the SLURM jobs got, as thread count changes float reductions and so
# must match for outputs to be equal: a group job's jobs run with the group's booked CPUs
# (slurm-packed: --cores = gpu_slots x threads), so they get the profile's set-threads in full;
# a single job runs with --cores all, which caps its rule's own threads (1-2) by this machine's
# cores. Hence --cores = the larger of the largest set-threads and nproc.
THREADS=$("$BIN/python" -c 'import sys, yaml; print(" ".join(f"{r}={n}" for r, n in
    yaml.safe_load(open(sys.argv[1]))["set-threads"].items()))' "$CODE/profiles/slurm/config.yaml")
LOCAL_CORES=$(nproc)
for t in $THREADS; do if [ "${t#*=}" -gt "$LOCAL_CORES" ]; then LOCAL_CORES=${t#*=}; fi; done
(cd "$WORK/local" && snakemake -s "$CODE/Snakefile" -d . --configfile config.yaml \
    --cores "$LOCAL_CORES" --set-threads $THREADS $TRIGGERS > snakemake.log 2>&1) || { tail -40 "$WORK/local/snakemake.log"; die "local snakemake failed"; }
T_LOCAL=$(( $(date +%s) - T_LOCAL ))
say "local run done in ${T_LOCAL}s"

# ---- 7. checks -----------------------------------------------------------------------------
sacct -c -P -n -o jobid,jobname,state,ncpus,nodelist > "$WORK/sacct_completion.txt"
"$BIN/python" "$REPO/tests/cluster/check_slurm_run.py" "$WORK" || die "checks failed"
say "PASS: SLURM run ${T_SLURM}s, local run ${T_LOCAL}s, total $(( $(date +%s) - T0 ))s"
