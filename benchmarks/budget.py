"""The end-to-end budget: a config's whole DAG on this machine's cores, from a clean copy.

Writes, with NAME = '' for the default config and '_<stem>' for --configfile config/<stem>.yaml,
- benchmarks/summary<NAME>.csv: per rule, from Snakemake's `benchmark:` records: jobs, total and max seconds,
  peak max_rss (MiB), plus a figure benchmarks/summary<NAME>.png;
- benchmarks/budget<NAME>.csv: wall time of the whole DAG, of a no-op rerun, and the peak memory of any job,
  against the config's targets (default: 15 min, 5 s, 2 GiB; fashion: 45 min, 5 s, 3 GiB), beside the machine's
  speed: `speed_ref_s`, the seconds of a fixed small training workload (benchmarks.common.machine_speed), and
  `wall_in_ref` = wall_s / speed_ref_s, which compares between machines where seconds do not. A shared virtual
  machine's speed drifts (1.3-2.2 s within a minute, idle, measured on one), so a timed run measures it before and
  after the DAG (`speed_ref_before_s`, `speed_ref_after_s`) and `speed_ref_s` is their mean.

Run: .venv/bin/python -m benchmarks.budget [--cores 2] [--configfile FILE] [--keep DIR]
     (or `make budget [CONFIG=config/fashion.yaml]`)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import HERE, machine, machine_speed
from tests.conftest import copy_workflow

TARGETS = {"wall_s": 15 * 60, "noop_s": 5.0, "peak_rss_mb": 2048.0}
CONFIG_TARGETS = {"fashion": {"wall_s": 45 * 60, "noop_s": 5.0, "peak_rss_mb": 3072.0}}


def rule_records(root: Path) -> pd.DataFrame:
    rows = []
    for tsv in sorted((root / "benchmarks" / "rules").rglob("*.tsv")):
        rec = pd.read_csv(tsv, sep="\t").iloc[-1]
        rss = pd.to_numeric(rec["max_rss"], errors="coerce")  # "-" or NA where memory was not measured
        cpu = pd.to_numeric(rec.get("cpu_time", float("nan")), errors="coerce")
        rows.append({"rule": tsv.relative_to(root / "benchmarks" / "rules").parts[0], "s": float(rec["s"]),
                     "max_rss": 0.0 if pd.isna(rss) else float(rss), "cpu_s": 0.0 if pd.isna(cpu) else float(cpu)})
    return pd.DataFrame(rows)


def summarize(records: pd.DataFrame) -> pd.DataFrame:
    return (records.groupby("rule").agg(jobs=("s", "size"), seconds_total=("s", "sum"), seconds_max=("s", "max"),
                                        cpu_seconds_total=("cpu_s", "sum"), max_rss_mb=("max_rss", "max"))
            .reset_index().sort_values("seconds_total", ascending=False))


def figure(summary: pd.DataFrame, budget: dict, name: str, targets: dict):
    from workflow.plots.common import new_figure, save_figure

    fig, (a, b) = new_figure(9, 1.0 + 0.28 * len(summary), ncols=2, sharey=True)
    a.barh(summary["rule"], summary["seconds_total"])
    a.set_xlabel("seconds (all jobs of the rule)")
    b.barh(summary["rule"], summary["max_rss_mb"], color="tab:orange")
    b.axvline(targets["peak_rss_mb"], color="red", ls="--", lw=0.8)
    b.set_xlabel("peak max_rss of a job (MiB)")
    a.invert_yaxis()
    fig.suptitle(f"{budget['config']}: {budget['wall_s']:.0f} s wall on {budget['cores']} cores, no-op rerun "
                 f"{budget['noop_s']:.1f} s; reference workload {budget['speed_ref_s']:.2f} s", fontsize=9)
    save_figure(fig, HERE / f"summary{name}.png")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cores", default="2")
    p.add_argument("--configfile", default=None)
    p.add_argument("--keep", type=Path, default=None,
                   help="run in this folder and keep it (results, logs) instead of a throw-away copy; a folder that "
                        "already holds a copy of the workflow is used as it is")
    p.add_argument("--records-only", type=Path, default=None, metavar="DIR",
                   help="run nothing: summarise the benchmark records of a finished run in DIR (its wall time is "
                        "unknown there; the CPU seconds of its jobs divided by --cores bound it from below)")
    p.add_argument("--speed-ref", type=float, default=None, metavar="SECONDS",
                   help="with --records-only: the reference workload's seconds measured on the idle machine (a "
                        "loaded machine measures itself slow)")
    args = p.parse_args()
    if args.records_only:  # run nothing: a finished run's records; its wall and no-op times are unknown
        records = rule_records(args.records_only)
        return report(args, records, wall=float("nan"), noop_s=float("nan"),
                      speed=args.speed_ref or machine_speed(),
                      source=f"records of a run that shared the machine ({args.records_only}); "
                             f"wall_in_ref from the CPU bound")
    before = machine_speed()
    extra = ["--configfile", args.configfile] if args.configfile else []
    with tempfile.TemporaryDirectory(prefix="cl-lab-budget-") as tmp:
        wd = args.keep if args.keep and (args.keep / "Snakefile").exists() else copy_workflow(args.keep or Path(tmp) / "wf")
        cmd = [sys.executable, "-m", "snakemake", "--cores", args.cores, *extra]
        # the data are fetched first and outside the timing: a download's time says nothing about this machine
        subprocess.run([*cmd, "--until", "download"], cwd=wd, check=True, capture_output=True)
        start = time.perf_counter()
        subprocess.run(cmd, cwd=wd, check=True, capture_output=True)
        wall = time.perf_counter() - start
        start = time.perf_counter()
        noop = subprocess.run(cmd, cwd=wd, check=True, capture_output=True, text=True)
        noop_s = time.perf_counter() - start
        assert "Nothing to be done" in noop.stdout + noop.stderr, "the rerun was not a no-op"
        records = rule_records(wd)
    after = machine_speed()
    report(args, records, wall=wall, noop_s=noop_s, speed=(before + after) / 2, source="timed run",
           speed_range=(before, after))


def report(args, records: pd.DataFrame, *, wall: float, noop_s: float, speed: float, source: str,
           speed_range: tuple[float, float] = (float("nan"), float("nan"))):
    """Write summary<NAME>.csv and budget<NAME>.csv (and, for a timed run, the figure). Without a wall time the
    CPU seconds of all jobs over the cores stand in for it: a lower bound, checked against the wall target."""
    stem = Path(args.configfile).stem if args.configfile else ""
    name = f"_{stem}" if stem and stem != "config" else ""
    targets = CONFIG_TARGETS.get(stem, TARGETS)
    summary = summarize(records)
    summary.to_csv(HERE / f"summary{name}.csv", index=False)
    bound = float(records["cpu_s"].sum()) / int(args.cores)
    timed = wall == wall
    budget = {"config": args.configfile or "config/config.yaml", "cores": args.cores, "wall_s": wall,
              "noop_s": noop_s, "peak_rss_mb": float(records["max_rss"].max()), "jobs": len(records),
              "cpu_s_total": float(records["cpu_s"].sum()), "cpu_bound_wall_s": bound, "machine": machine(),
              "speed_ref_s": speed, "speed_ref_before_s": speed_range[0], "speed_ref_after_s": speed_range[1],
              "wall_in_ref": (wall if timed else bound) / speed, "source": source}
    for key, limit in targets.items():
        value = bound if key == "wall_s" and not timed else budget[key]
        budget[f"{key}_target"] = limit
        budget[f"{key}_ok"] = bool(value <= limit) if value == value else None
    pd.DataFrame([budget]).to_csv(HERE / f"budget{name}.csv", index=False)
    if timed:
        figure(summary, budget, name, targets)
    print(pd.DataFrame([budget]).T.to_string(header=False))
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
