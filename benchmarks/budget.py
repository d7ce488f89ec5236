"""The end-to-end budget: the README's main job (whole default DAG) on this machine's cores, from a clean copy.

Writes
- benchmarks/summary.csv: per rule, from Snakemake's `benchmark:` records: jobs, total and max seconds,
  peak max_rss (MiB), plus a figure benchmarks/summary.png;
- benchmarks/budget.csv: wall time of the whole DAG, of a no-op rerun, and the peak memory of any job, against
  the targets (15 min, 5 s, 2 GiB).

Run: .venv/bin/python -m benchmarks.budget [--cores 2] [--configfile FILE]   (or `make budget`)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import HERE, machine
from tests.conftest import copy_workflow

TARGETS = {"wall_s": 15 * 60, "noop_s": 5.0, "peak_rss_mb": 2048.0}


def rule_records(root: Path) -> pd.DataFrame:
    rows = []
    for tsv in sorted((root / "benchmarks" / "rules").rglob("*.tsv")):
        rec = pd.read_csv(tsv, sep="\t").iloc[-1]
        rss = pd.to_numeric(rec["max_rss"], errors="coerce")  # "-" or NA where memory was not measured
        rows.append({"rule": tsv.relative_to(root / "benchmarks" / "rules").parts[0], "s": float(rec["s"]),
                     "max_rss": 0.0 if pd.isna(rss) else float(rss)})
    return pd.DataFrame(rows)


def summarize(records: pd.DataFrame) -> pd.DataFrame:
    return (records.groupby("rule").agg(jobs=("s", "size"), seconds_total=("s", "sum"), seconds_max=("s", "max"),
                                        max_rss_mb=("max_rss", "max"))
            .reset_index().sort_values("seconds_total", ascending=False))


def figure(summary: pd.DataFrame, budget: dict):
    from workflow.plots.common import new_figure, save_figure

    fig, (a, b) = new_figure(9, 1.0 + 0.28 * len(summary), ncols=2, sharey=True)
    a.barh(summary["rule"], summary["seconds_total"])
    a.set_xlabel("seconds (all jobs of the rule)")
    b.barh(summary["rule"], summary["max_rss_mb"], color="tab:orange")
    b.axvline(TARGETS["peak_rss_mb"], color="red", ls="--", lw=0.8)
    b.set_xlabel("peak max_rss of a job (MiB)")
    a.invert_yaxis()
    fig.suptitle(f"default DAG: {budget['wall_s']:.0f} s wall on {budget['cores']} cores, no-op rerun "
                 f"{budget['noop_s']:.1f} s", fontsize=9)
    save_figure(fig, HERE / "summary.png")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cores", default="2")
    p.add_argument("--configfile", default=None)
    args = p.parse_args()
    extra = ["--configfile", args.configfile] if args.configfile else []
    with tempfile.TemporaryDirectory(prefix="cl-lab-budget-") as tmp:
        wd = copy_workflow(Path(tmp) / "wf")
        cmd = [sys.executable, "-m", "snakemake", "--cores", args.cores, *extra]
        start = time.perf_counter()
        subprocess.run(cmd, cwd=wd, check=True, capture_output=True)
        wall = time.perf_counter() - start
        start = time.perf_counter()
        noop = subprocess.run(cmd, cwd=wd, check=True, capture_output=True, text=True)
        noop_s = time.perf_counter() - start
        assert "Nothing to be done" in noop.stdout + noop.stderr, "the rerun was not a no-op"
        records = rule_records(wd)
    summary = summarize(records)
    summary.to_csv(HERE / "summary.csv", index=False)
    budget = {"config": args.configfile or "config/config.yaml", "cores": args.cores, "wall_s": wall,
              "noop_s": noop_s, "peak_rss_mb": float(records["max_rss"].max()), "jobs": len(records),
              "machine": machine()}
    for key, limit in TARGETS.items():
        budget[f"{key}_target"] = limit
        budget[f"{key}_ok"] = budget[key] <= limit
    pd.DataFrame([budget]).to_csv(HERE / "budget.csv", index=False)
    figure(summary, budget)
    print(pd.DataFrame([budget]).T.to_string(header=False))
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
