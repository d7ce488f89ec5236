"""Rule `baseline_train`: train one independent network on one task of a suite."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, add_run_arguments, log, parser, run
from workflow.io import remove_checkpoint, torch_save, write_csv, write_json
from workflow.methods import baseline
from workflow.methods.common import load_suite


def main(args):
    task = load_suite(args.data, args.suite)[args.task]
    device = args.device
    resume = args.out / ".resume.pt"  # not a declared output: survives a killed job, removed on success
    net, history, result = baseline.train_task(
        task, model=args.params["model"], width=args.params["width"], train=args.params["train"], seed=args.seed,
        device=device, checkpoint_path=resume, progress_file=Progress.stream,
        threads=args.compute.get("threads", 1))
    torch_save(args.out / "model.pt", {"state_dict": net.state_dict(), "config": args.params, "task": args.task})
    write_csv(args.out / "history.csv", pd.DataFrame(history))
    write_json(args.out / "result.json", result)
    remove_checkpoint(resume)
    log.info("task %d: val %.4f test %.4f", args.task, result["val"]["accuracy"], result["test"]["accuracy"])


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--task", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
