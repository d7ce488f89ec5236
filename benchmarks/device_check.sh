#!/usr/bin/env bash
# CUDA check of the paper config: the whole DAG of config/paper.yaml + config/device_check.yaml (the paper's
# models on generated data of the real shapes, minimum schedules) on a GPU, then the fast unit tests.
#
#   OUT=/some/folder bash benchmarks/device_check.sh
#
# For a machine whose python3 has torch, torchvision, numpy, pandas, matplotlib, scikit-learn, pyyaml, tqdm and
# pytest but neither snakemake nor jsonschema, and no network: those two (and their dependencies) are installed
# offline from .whl/ into /tmp/site; the project is imported from the repository root through PYTHONPATH (no
# `pip install -e`). .whl/ is git-ignored (.git/info/exclude) and travels as a carried path. It was filled with
#   pip download --only-binary=:all: --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 \
#     --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any --find-links .whl -d .whl \
#     snakemake==9.27.1 jsonschema==4.26.0
# after `pip wheel --no-deps -w .whl connection_pool==0.0.3` (published as an sdist only), then the wheels of
# packages the GPU image has were deleted (attrs certifi charset_normalizer idna jinja2 markupsafe packaging
# psutil pyyaml requests tabulate urllib3 wrapt); typing_extensions stays (pydantic needs >= 4.16).
#
# Writes to $OUT: device_check.log (environment, Snakemake output), pytest.log, rule_times.csv (per rule: jobs,
# wall seconds, max RSS), gpu_samples.csv (GPU use every 2 s while the DAG runs), cuda_check.txt (did the
# training jobs run on cuda), device_check_logs.tar.gz (logs/, benchmarks/rules/, results' summaries and tables,
# metrics/). Exit status: Snakemake's if it failed, else pytest's (124: timed out), else 0.
#
# Settings (environment): PY (python3), CORES (16), WHEELS (.whl; empty: use PY's own snakemake), EXTRA_CONFIG
# (more --configfile overlays after device_check.yaml, e.g. a CPU override for a trial run without a GPU),
# DAG_TIMEOUT (360 s), PYTEST_TIMEOUT (150 s), FRESH (1: remove earlier results of this check first).
set -euo pipefail

cd "$(dirname "$0")/.."
REPO=$PWD
OUT=${OUT:-/tmp/device_check_out}
PY=${PY:-python3}
CORES=${CORES:-16}
WHEELS=${WHEELS-.whl}
EXTRA_CONFIG=${EXTRA_CONFIG:-}
DAG_TIMEOUT=${DAG_TIMEOUT:-360}
PYTEST_TIMEOUT=${PYTEST_TIMEOUT:-150}
FRESH=${FRESH:-1}
mkdir -p "$OUT"
LOG=$OUT/device_check.log
: > "$LOG"
say() { echo "[device_check $(date +%H:%M:%S)] $*" | tee -a "$LOG"; }

SMK_RC=-1
PYTEST_RC=-1
MONITOR_PID=
START=$(date +%s)

finish() {
    local rc=$?
    set +e
    [ -n "$MONITOR_PID" ] && kill "$MONITOR_PID" 2>/dev/null && wait "$MONITOR_PID" 2>/dev/null
    # Per-rule wall time and peak memory from Snakemake's benchmark files (one TSV per job).
    "$PY" - "$OUT/rule_times.csv" <<'EOF' >> "$LOG" 2>&1
import sys
from pathlib import Path
from benchmarks.budget import rule_records, summarize  # the budget's per-rule table, same columns
table = summarize(rule_records(Path(".")))
table.to_csv(sys.argv[1], index=False)
print(f"rule_times.csv: {len(table)} rules, {table['jobs'].sum()} jobs, {table['seconds_total'].sum():.1f} "
      "job-seconds; slowest: " + ", ".join(f"{r.rule} {r.seconds_total:.1f}s" for r in table.head(5).itertuples()))
EOF
    # Did the training jobs run on cuda? Every job's log starts with its command line (its --compute JSON);
    # compute.device 'cuda' makes resolve_device raise when CUDA is not visible, so a finished job ran there.
    {
        echo "jobs whose log names device cuda: $(grep -rlF '"device": "cuda"' logs 2>/dev/null | wc -l)"
        echo "jobs whose log names another device: $(grep -rlE '"device": "(cpu|auto)"' logs 2>/dev/null | wc -l)"
        echo "job logs with a traceback or error: $(grep -rlE 'Traceback|ERROR' logs 2>/dev/null | wc -l)"
        grep -rlE 'Traceback|ERROR' logs 2>/dev/null | head -20 | sed 's/^/  /'
        if [ -s "$OUT/gpu_samples.csv" ]; then
            awk -F, 'NR > 1 { if ($2 > u) u = $2; if ($3 > m) m = $3; if ($4 > p) p = $4; n++ }
                     END { printf "GPU while the DAG ran: %d samples, max utilisation %d%%, max memory %d MiB, " \
                           "max compute processes %d\n", n, u, m, p }' "$OUT/gpu_samples.csv"
        fi
    } > "$OUT/cuda_check.txt"
    cat "$OUT/cuda_check.txt" >> "$LOG"
    # Logs, benchmark records, the small result tables (no checkpoints).
    find results -type f \( -name summary.json -o -name 'accuracy*.csv' -o -name transfer.csv \
        -o -name capacity.csv -o -name alphas.csv -o -name claims.csv -o -name hypotheses.csv \
        -o -name simplex.csv -o -name alpha_curve.csv \) 2>/dev/null > "$OUT/.tables" || true
    find metrics -name '*.json' 2>/dev/null >> "$OUT/.tables" || true
    tar czf "$OUT/device_check_logs.tar.gz" --ignore-failed-read logs benchmarks/rules -T "$OUT/.tables" \
        2>> "$LOG" || say "tar reported a problem (see above)"
    rm -f "$OUT/.tables"
    local final=$rc
    if [ "$SMK_RC" != -1 ] && [ "$SMK_RC" != 0 ]; then final=$SMK_RC
    elif [ "$PYTEST_RC" != -1 ] && [ "$PYTEST_RC" != 0 ]; then final=$PYTEST_RC; fi
    say "SUMMARY snakemake rc=$SMK_RC pytest rc=$PYTEST_RC exit=$final wall=$(( $(date +%s) - START ))s"
    exit "$final"
}
trap finish EXIT

# --- environment: the wheels, the project on PYTHONPATH, a `python` for the jobs ------------------------------
if [ -n "$WHEELS" ]; then
    say "installing $(ls "$WHEELS"/*.whl | wc -l) wheels from $WHEELS into /tmp/site"
    if "$PY" -m pip --version > /dev/null 2>&1; then
        "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
            "$WHEELS"/*.whl 2>&1 | grep -v -i 'warning' | tee -a "$LOG" || true
    else  # no pip: a wheel is a zip of site-packages (none of these needs its .data folder)
        say "no pip for $PY: unpacking the wheels instead"
        for w in "$WHEELS"/*.whl; do "$PY" -m zipfile -e "$w" /tmp/site; done
    fi
    export PYTHONPATH=/tmp/site:$REPO${PYTHONPATH:+:$PYTHONPATH}
else
    export PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH}
fi
# Jobs run `python` (rules/common.smk puts the directory of Snakemake's interpreter first on PATH); where that
# directory has only python3, this shim is found next.
PYREAL=$("$PY" -c 'import sys; print(sys.executable)')
mkdir -p /tmp/device_check_bin
printf '#!/bin/sh\nexec %s "$@"\n' "$PYREAL" > /tmp/device_check_bin/python
chmod +x /tmp/device_check_bin/python
export PATH=$(dirname "$PYREAL"):/tmp/device_check_bin:$PATH
export PYTHONUNBUFFERED=1 PYTHONHASHSEED=0 MPLBACKEND=Agg

{
    echo "== host: $(hostname) $(uname -m), $(nproc) CPUs, $(free -g | awk '/Mem/ {print $2}') GiB"
    echo "== python: $PYREAL; jobs' python: $(command -v python) -> $(python -c 'import sys; print(sys.executable)')"
    nvidia-smi || echo "nvidia-smi failed"
    "$PY" - <<'EOF'
import importlib.metadata as md
import torch, torchvision
print(f"torch {torch.__version__} (cuda {torch.version.cuda}, cudnn {torch.backends.cudnn.version()}), "
      f"torchvision {torchvision.__version__}; cuda available: {torch.cuda.is_available()}")
for i in range(torch.cuda.device_count()):
    print(f"  cuda:{i} {torch.cuda.get_device_name(i)} {torch.cuda.get_device_properties(i).total_memory / 2**30:.0f} GiB")
names = ["snakemake", "jsonschema", "pulp", "pydantic", "typing_extensions", "packaging", "pyyaml", "jinja2",
         "numpy", "pandas", "matplotlib", "scikit-learn", "tqdm", "pytest", "psutil", "requests", "tabulate", "wrapt"]


def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        return "MISSING"


print("packages: " + ", ".join(f"{n} {version(n)}" for n in names))
EOF
} 2>&1 | tee -a "$LOG"
if ! "$PY" -c "import snakemake, jsonschema, workflow.config" >> "$LOG" 2>&1; then
    say "cannot import snakemake / jsonschema / the project (see above): stop"
    exit 3
fi

# --- the DAG --------------------------------------------------------------------------------------------------
if [ "$FRESH" = 1 ]; then
    rm -rf results logs benchmarks/rules .snakemake/incomplete .snakemake/locks resources/data/synthetic_*
fi
if command -v nvidia-smi >/dev/null; then
    (
        echo "time_s,util_percent,memory_mib,compute_processes"
        while :; do
            g=$(nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader,nounits 2>/dev/null | head -1 | tr -d ' ')
            p=$(nvidia-smi --query-compute-apps=pid --format=csv,noheader 2>/dev/null | wc -l)
            echo "$(( $(date +%s) - START )),${g:-0,0},$p"
            sleep 2
        done
    ) > "$OUT/gpu_samples.csv" &
    MONITOR_PID=$!
fi
# shellcheck disable=SC2086
set -- --cores "$CORES" --keep-going --rerun-incomplete --show-failed-logs \
    --configfile config/paper.yaml config/device_check.yaml $EXTRA_CONFIG
say "snakemake $*"
set +e
timeout -k 20 "$DAG_TIMEOUT" "$PY" -m snakemake "$@" 2>&1 | tee -a "$LOG"
SMK_RC=${PIPESTATUS[0]}
set -e
say "snakemake exit status $SMK_RC after $(( $(date +%s) - START ))s"
[ -n "$MONITOR_PID" ] && kill "$MONITOR_PID" 2>/dev/null && wait "$MONITOR_PID" 2>/dev/null || true
MONITOR_PID=
if [ -f results/claims.csv ]; then { echo "== results/claims.csv"; cat results/claims.csv; } | tee -a "$LOG"; fi

# --- the fast unit tests under this machine's torch ----------------------------------------------------------
# Left out: the end-to-end files (marker e2e) and the five tests that run a whole method's Snakemake DAG on the
# test config (about 220 s of the 260 s that the rest takes on 2 CPU cores); the DAG above covers them.
SLOW_DAG_TESTS="test_snakemake_cpg_and_packnet or test_snakemake_runs_all_six_methods_on_the_test_config"
SLOW_DAG_TESTS="$SLOW_DAG_TESTS or test_snakemake_test_config or test_snakemake_runs_dpnas_on_test_config"
SLOW_DAG_TESTS="$SLOW_DAG_TESTS or test_rules_run_on_the_test_config"
say "pytest (not e2e, not the per-method DAG tests), at most ${PYTEST_TIMEOUT}s"
set +e
timeout -k 10 "$PYTEST_TIMEOUT" "$PY" -m pytest -q -p no:cacheprovider --maxfail=5 --durations=5 -m "not e2e" \
    -k "not ($SLOW_DAG_TESTS)" --ignore tests/test_e2e.py --ignore tests/test_slurm.py \
    --ignore tests/test_faults.py tests 2>&1 | tee "$OUT/pytest.log"
PYTEST_RC=${PIPESTATUS[0]}
set -e
say "pytest exit status $PYTEST_RC"
