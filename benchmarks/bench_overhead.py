"""A job's fixed cost without its work: interpreter start and exit, imports (torch, then the script's own) and reading
its data, each job kind in fresh interpreters as Snakemake starts them (PYTHONPATH = the checkout).

Job kinds (the DAG pays one of these per job, 100+ times):
- training job: ``import torch``, then scripts/baseline_train.py's imports (the model and training code), then
  loading one task of the default config's suite from the dataset folder the ``download`` rule writes
  (load_suite, checksum included), then a first step: the default model and the shared loop's optimizer
  (workflow.training.loop.build_optimizer) built, one SGD step on one batch (what every training job pays before
  its work: torch's own optimizer imports torch._dynamo on its first step; the same job with torch.optim.SGD is
  measured beside it);
- table-only job: scripts/baseline_collect.py's imports (no torch), then reading the per-task results.json files;
- reference: a bare interpreter (``python -c pass``).

Each job kind twice: as a plain script ending normally (the interpreter's teardown, torch's included), and as a
rule's ``script:`` runs it under workflow.stage.run: the ``snakemake.script`` module its preamble imports first,
and the process ending with ``os._exit`` once its files are flushed.

A child times its own phases (torch: ``import torch`` first, in a training job only, so that the script's own
imports are timed apart from it wherever the script imports it; imports: the script's top level run by runpy
without ``main``; data); the parent times the whole process and its CPU (getrusage of the child), so
``start_exit`` = total - torch - imports - data is the interpreter's start, runpy and the exit (torch's teardown
included). One warm-up run per kind (page cache), then ``--repeats`` runs; the CSV has the median, min and max of
each. Beside them: ``speed_ref_s``, the machine-speed reference of benchmarks.common.machine_speed (as in
benchmarks/budget.csv), and each median total as a multiple of it, so two machines compare; ``load_1min`` says how
busy the machine was.

Writes benchmarks/overhead.csv and benchmarks/overhead.png.
Run: .venv/bin/python -m benchmarks.bench_overhead [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from benchmarks.common import HERE, machine, machine_speed
from workflow.config import merged_config

REPO = HERE.parent
PHASES = ("start_exit", "preamble", "torch", "imports", "data", "first_step", "total")

# The child: time torch's import (training jobs), the script's imports (its top level, `main` not run), the data,
# then a first training step (training jobs), and report as JSON.
CHILD = """import json, os, sys, time
t0, c0 = time.perf_counter(), time.process_time()
{preamble}
tp, cp = time.perf_counter(), time.process_time()
{torch}
t1, c1 = time.perf_counter(), time.process_time()
{imports}
t2, c2 = time.perf_counter(), time.process_time()
{data}
t3, c3 = time.perf_counter(), time.process_time()
{step}
t4, c4 = time.perf_counter(), time.process_time()
print("OVERHEAD", json.dumps({{"preamble_s": tp - t0, "preamble_cpu_s": cp - c0,
                              "torch_s": t1 - tp, "torch_cpu_s": c1 - cp, "imports_s": t2 - t1,
                              "imports_cpu_s": c2 - c1, "data_s": t3 - t2, "data_cpu_s": c3 - c2,
                              "first_step_s": t4 - t3, "first_step_cpu_s": c4 - c3,
                              "torch_imported": "torch" in sys.modules}}), flush=True)
{exit}
"""
SCRIPT_PREAMBLE = "import snakemake.script"  # what the preamble of a `script:` job imports (then unpickles the job)
FAST_EXIT = "sys.stderr.flush()\nos._exit(0)"  # workflow.stage.run, after logging.shutdown()


def script_imports(name: str) -> str:
    path = REPO / "scripts" / f"{name}.py"
    return f"import runpy\nrunpy.run_path({str(path)!r}, run_name='overhead_bench')"


def first_step(model: dict, optimizer: str) -> str:
    """A training job's first step: ``model`` (the baseline section: model, width, train) built, ``optimizer``
    (an expression of ``params`` and ``cfg``) built, one step on one batch of ``task``."""
    return ("import torch.nn.functional as F\n"
            "from workflow.models import build_classifier\n"
            "from workflow.training import TrainConfig, seed_everything\n"
            "from workflow.training.loop import build_optimizer\n"
            f"seed_everything(0)\ncfg = TrainConfig.from_dict({model['train']!r})\n"
            f"net = build_classifier({model['model']!r}, task.train.x.shape[1:], task.num_classes, {model['width']!r})\n"
            f"params = list(net.parameters())\nopt = {optimizer}\n"
            "x, y = torch.as_tensor(task.train.x[:cfg.batch_size]), torch.as_tensor(task.train.y[:cfg.batch_size])\n"
            "opt.zero_grad()\nF.cross_entropy(net(x), y).backward()\nopt.step()")


def job_kinds(spec: dict, model: dict, data_dir: Path,
              results: list[Path]) -> dict[str, tuple[str, str, str, str, str, str]]:
    """name -> (preamble, torch, imports, data, first step, exit code) of each kind measured; ``spec``: the suite
    loaded, ``model``: the baseline section whose network and optimizer take the first step."""
    load = (f"from workflow.methods.common import load_suite\n"
            f"task = load_suite({str(data_dir)!r}, {spec!r})[0]\nassert len(task.train.y) > 0")
    read = f"from workflow.io import read_json\nresults = [read_json(p) for p in {[str(p) for p in results]!r}]"
    train = ("import torch", script_imports("baseline_train"), load, first_step(model, "build_optimizer(params, cfg)"))
    # torch's own SGD with the settings of the shared loop's (the default config trains with sgd)
    stock = first_step(model, "torch.optim.SGD(params, **build_optimizer(params, cfg).defaults)")
    table = ("pass", script_imports("baseline_collect"), read, "pass")
    return {
        "python -c pass": ("pass", "pass", "pass", "pass", "pass", "pass"),
        "training job (baseline_train), plain exit": ("pass", *train, "pass"),
        "training job (baseline_train), script: + workflow.stage.run": (SCRIPT_PREAMBLE, *train, FAST_EXIT),
        "training job, script: + run, torch.optim.SGD (compile guards)": (SCRIPT_PREAMBLE, *train[:3], stock,
                                                                           FAST_EXIT),
        "table-only job (baseline_collect), plain exit": ("pass", *table, "pass"),
        "table-only job (baseline_collect), script: + workflow.stage.run": (SCRIPT_PREAMBLE, *table, FAST_EXIT),
    }


def run_child(preamble: str, torch: str, imports: str, data: str, step: str, exit: str, cwd: Path) -> dict:
    """One fresh interpreter: its own phase times plus the parent's wall and CPU seconds of the whole process."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(REPO), "PYTHONHASHSEED": "0"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD.format(preamble=preamble, torch=torch, imports=imports,
                                                                data=data, step=step, exit=exit)], cwd=cwd,
                          env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"overhead child failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("OVERHEAD "))
    rec = json.loads(line.split(" ", 1)[1])
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    rec.update(total_s=wall, total_cpu_s=cpu,
               start_exit_s=wall - sum(rec[f"{p}_s"] for p in PHASES[1:-1]),
               start_exit_cpu_s=cpu - sum(rec[f"{p}_cpu_s"] for p in PHASES[1:-1]))
    return rec


def inputs(tmp: Path, config: dict) -> tuple[Path, list[Path]]:
    """The default suite's dataset as the download rule stores it, and a baseline run's per-task results.json
    files."""
    from workflow.data import fetch_dataset, save_arrays
    from workflow.io import write_json

    spec = config["suites"][config["suite"]]
    data_dir = tmp / "data" / spec["dataset"]
    save_arrays(data_dir, fetch_dataset(spec["dataset"], tmp / "raw", config["data"].get("options", {}).get(
        spec["dataset"], {})))
    results = []
    for t in range(spec["tasks"]):
        results.append(tmp / f"task{t}" / "result.json")
        write_json(results[-1], {"task": t, "name": f"task{t}", "classes": [2 * t, 2 * t + 1], "seed": 0,
                                 "val": {"accuracy": 0.9}, "test": {"accuracy": 0.85}, "epochs_run": 3})
    return data_dir, results


def measure(repeats: int) -> pd.DataFrame:
    load = os.getloadavg()[0]
    config = merged_config([], root=REPO)  # the default config, as Snakemake runs it
    rows = []
    with tempfile.TemporaryDirectory(prefix="cl-lab-overhead-") as tmp:
        data_dir, results = inputs(Path(tmp), config)
        for kind, code in job_kinds(config["suites"][config["suite"]], config["baseline"], data_dir, results).items():
            run_child(*code, Path(tmp))  # warm-up: page cache, .pyc files
            recs = [run_child(*code, Path(tmp)) for _ in range(repeats)]
            row = {"job": kind, "repeats": repeats, "torch_imported": recs[0]["torch_imported"]}
            for phase in PHASES:
                for unit in ("s", "cpu_s"):
                    values = [r[f"{phase}_{unit}"] for r in recs]
                    row[f"{phase}_{unit}"] = statistics.median(values)
                    row[f"{phase}_{unit}_min"] = min(values)
                    row[f"{phase}_{unit}_max"] = max(values)
            rows.append(row)
            print(f"{kind}: total {row['total_s']:.2f} s wall, {row['total_cpu_s']:.2f} s CPU", flush=True)
    frame = pd.DataFrame(rows)
    frame["load_1min"] = load
    return frame


def figure(frame: pd.DataFrame, speed: float):
    from workflow.plots.common import new_figure, save_figure

    fig, axes = new_figure(10, 0.9 + 0.45 * len(frame), ncols=2, sharey=True)
    colors = {"start_exit": "tab:gray", "preamble": "tab:green", "torch": "tab:red", "imports": "tab:blue",
              "data": "tab:orange", "first_step": "tab:purple"}
    for ax, unit, label in ((axes[0], "s", "wall seconds (median)"), (axes[1], "cpu_s", "CPU seconds (median)")):
        left = [0.0] * len(frame)
        for phase, color in colors.items():
            values = frame[f"{phase}_{unit}"].clip(lower=0).tolist()
            ax.barh(frame["job"], values, left=left, color=color,
                    label={"start_exit": "start/exit", "torch": "import torch", "preamble": "script: preamble",
                           "first_step": "first step (model, optimizer)"}.get(phase, phase))
            left = [a + b for a, b in zip(left, values)]
        for i, total in enumerate(frame[f"total_{unit}"]):
            ax.text(total, i, f" {total:.2f} s = {total / speed:.2f} x ref", va="center", fontsize=7)
        ax.set_xlabel(label)
        ax.set_xlim(0, 2.0 * max(frame[f"total_{unit}"]))  # room for the labels and, on the right, the legend
    axes[0].invert_yaxis()
    axes[1].legend(fontsize=7, loc="lower right")  # the right panel has room below its longest bars
    fig.suptitle(f"A job's fixed cost, {int(frame['repeats'][0])} runs each; machine-speed reference "
                 f"{speed:.2f} s; load {frame['load_1min'][0]:.1f} at the start", fontsize=9)
    save_figure(fig, HERE / "overhead.png")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args()
    speed = machine_speed()
    frame = measure(args.repeats)
    frame["speed_ref_s"] = speed
    frame["total_in_ref"] = frame["total_s"] / speed
    frame["total_cpu_in_ref"] = frame["total_cpu_s"] / speed
    frame["machine"] = machine()
    frame.to_csv(HERE / "overhead.csv", index=False)
    figure(frame, speed)
    shown = ["job", "torch_imported", "start_exit_s", "preamble_s", "torch_s", "imports_s", "data_s", "first_step_s",
             "total_s", "total_cpu_s", "total_in_ref"]
    print(frame[shown].to_string(index=False, float_format="{:.3f}".format))
    print(f"machine-speed reference {speed:.3f} s; load {frame['load_1min'][0]:.2f}")


if __name__ == "__main__":
    main()
