"""Rule `cpg_prune`: the gradual pruning sweep of one task's weights; validation accuracy per sparsity level."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, add_run_arguments, parser, run
from workflow.io import read_json, remove_checkpoint, torch_load, torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.cpg import stages
from workflow.methods.cpg.params import check_params, read_goal


def main(args):
    params = check_params(args.params, args.method)
    tasks = load_suite(args.data, args.suite)
    task = tasks[args.task]
    goal = read_goal(read_json(args.goals), args.task, args.goals)
    status = read_json(args.status)
    resume = args.levels.with_name(".resume.pt")  # finished levels of an interrupted sweep
    progress = torch_load(resume) if resume.exists() else None
    records, levels, history = stages.prune_sweep(
        torch_load(args.model)["network"], task, params=params, status=status, num_tasks=len(tasks), goal=goal,
        seed=args.seed, device=args.device, progress=progress,
        save_progress=lambda state: torch_save(resume, state), progress_file=Progress.stream,
        threads=args.compute.get("threads", 1))
    torch_save(args.levels, {"levels": levels})
    write_csv(args.history, pd.DataFrame(history))
    write_json(args.record, {"task": args.task, "goal": goal, "status": status["status"], "records": records})
    remove_checkpoint(resume)


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--method", required=True, help="config section: cpg or packnet")
    p.add_argument("--goals", type=Path, required=True)
    p.add_argument("--task", type=int, required=True)
    p.add_argument("--model", type=Path, required=True, help="the finetuned network (last attempt)")
    p.add_argument("--status", type=Path, required=True, help="that attempt's status.json")
    p.add_argument("--record", type=Path, required=True)
    p.add_argument("--levels", type=Path, required=True)
    p.add_argument("--history", type=Path, required=True)
    run(main, p)
