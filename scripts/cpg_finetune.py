"""Rule `cpg_finetune` (a checkpoint): one finetune attempt of a task; its status.json (ok / grow / capped)
decides whether Snakemake asks for a grow step and another attempt."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, add_run_arguments, log, parser, run
from workflow.io import read_json, remove_checkpoint, torch_load, torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.cpg import stages
from workflow.methods.cpg.params import check_params, read_goal


def main(args):
    params = check_params(args.params, args.method)
    task = load_suite(args.data, args.suite)[args.task]
    goal = read_goal(read_json(args.goals), args.task, args.goals)
    start = torch_load(args.start)["network"] if args.start else None
    resume = args.out / ".resume.pt"  # not a declared output: survives a killed job, removed on success
    net, status, history = stages.finetune(start, task, params=params, goal=goal, seed=args.seed,
                                           device=args.device, checkpoint_path=resume,
                                           progress_file=Progress.stream, threads=args.compute.get("threads", 1))
    status["attempt"] = args.attempt
    torch_save(args.out / "finetune.pt", {"network": net.to_state()})
    write_csv(args.out / "history.csv", pd.DataFrame(history))
    write_json(args.out / "status.json", status)
    remove_checkpoint(resume)
    log.info("task %d attempt %d: %s (val %.4f, goal %.4f, multiplier %.3g)", args.task, args.attempt,
             status["status"], status["val_accuracy"], goal, status["multiplier"])


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--method", required=True, help="config section: cpg or packnet")
    p.add_argument("--goals", type=Path, required=True, help="the baseline's baseline_acc.json")
    p.add_argument("--task", type=int, required=True)
    p.add_argument("--attempt", type=int, required=True)
    p.add_argument("--start", type=Path, default=None, help="network to start from (previous task or grow step)")
    p.add_argument("--out", type=Path, required=True, help="the attempt's folder")
    run(main, p)
