"""The end-to-end budget: a config's whole DAG on this machine's cores, from a clean copy.

Writes, with NAME = '' for the default config and '_<stem>' for --configfile config/<stem>.yaml,
- benchmarks/summary<NAME>.csv: per rule, from Snakemake's `benchmark:` records: jobs, total and max seconds,
  peak max_rss (MiB), plus a figure benchmarks/summary<NAME>.png;
- benchmarks/budget<NAME>.csv: wall time of the whole DAG, of a no-op rerun, and the peak memory of any job,
  against the config's targets (default: 15 min, 5 s, 2 GiB; fashion: 45 min, 5 s, 3 GiB), beside the machine's
  speed: `speed_ref_s`, the seconds of a fixed small training workload (benchmarks.common.machine_speed), and
  `wall_in_ref` = wall_s / speed_ref_s, which compares between machines where seconds do not.

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
    if args.records_only:
        return records_only(args)
    extra = ["--configfile", args.configfile] if args.configfile else []
    stem = Path(args.configfile).stem if args.configfile else ""
    name = f"_{stem}" if stem and stem != "config" else ""
    targets = CONFIG_TARGETS.get(stem, TARGETS)
    speed = machine_speed()
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
    summary = summarize(records)
    summary.to_csv(HERE / f"summary{name}.csv", index=False)
    budget = {"config": args.configfile or "config/config.yaml", "cores": args.cores, "wall_s": wall,
              "noop_s": noop_s, "peak_rss_mb": float(records["max_rss"].max()), "jobs": len(records),
              "cpu_s_total": float(records["cpu_s"].sum()), "cpu_bound_wall_s": records["cpu_s"].sum() / int(args.cores),
              "machine": machine(), "speed_ref_s": speed, "wall_in_ref": wall / speed, "source": "timed run"}
    for key, limit in targets.items():
        budget[f"{key}_target"] = limit
        budget[f"{key}_ok"] = budget[key] <= limit
    pd.DataFrame([budget]).to_csv(HERE / f"budget{name}.csv", index=False)
    figure(summary, budget, name, targets)
    print(pd.DataFrame([budget]).T.to_string(header=False))
    print(summary.to_string(index=False))


def records_only(args):
    """The budget of a run made elsewhere (e.g. one that shared the machine): per-rule records, peak memory, and
    the CPU seconds of all jobs over the cores as a lower bound of the wall time; wall and no-op are not known."""
    stem = Path(args.configfile).stem if args.configfile else ""
    name = f"_{stem}" if stem and stem != "config" else ""
    targets = CONFIG_TARGETS.get(stem, TARGETS)
    records = rule_records(args.records_only)
    summary = summarize(records)
    summary.to_csv(HERE / f"summary{name}.csv", index=False)
    speed = args.speed_ref or machine_speed()
    bound = records["cpu_s"].sum() / int(args.cores)
    budget = {"config": args.configfile or "config/config.yaml", "cores": args.cores, "wall_s": float("nan"),
              "noop_s": float("nan"), "peak_rss_mb": float(records["max_rss"].max()), "jobs": len(records),
              "cpu_s_total": float(records["cpu_s"].sum()), "cpu_bound_wall_s": bound, "machine": machine(),
              "speed_ref_s": speed, "wall_in_ref": bound / speed,
              "source": f"records of a run that shared the machine ({args.records_only}); wall_in_ref from the CPU bound"}
    for key, limit in targets.items():
        budget[f"{key}_target"] = limit
        value = bound if key == "wall_s" else budget[key]
        budget[f"{key}_ok"] = bool(value <= limit) if value == value else None
    pd.DataFrame([budget]).to_csv(HERE / f"budget{name}.csv", index=False)
    print(pd.DataFrame([budget]).T.to_string(header=False))
    print(summary.to_string(index=False))


if __name__ == "__main__":
    main()
