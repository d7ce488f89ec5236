"""Rule `cpg_retrain`: fresh picking mask and the task's remaining weights, retrained with patience; then every
task so far is evaluated through its own task view (one row of R, the capacity row, test logits)."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, add_run_arguments, log, parser, run
from workflow.io import remove_checkpoint, torch_load, torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.cpg import stages
from workflow.methods.cpg.params import check_params


def main(args):
    params = check_params(args.params, args.method)
    tasks = load_suite(args.data, args.suite)
    device = args.device
    resume = args.out / ".resume.pt"
    chosen = torch_load(args.chosen)
    net, info, history = stages.retrain(chosen["network"], tasks[args.task], params=params, seed=args.seed,
                                        device=device, checkpoint_path=resume, progress_file=Progress.stream,
                                        threads=args.compute.get("threads", 1))
    rows, logits = stages.evaluate_tasks(net, tasks, device=device)
    torch_save(args.out / "model.pt", {"network": net.to_state()})
    torch_save(args.out / "test_logits.pt", logits)
    write_csv(args.out / "retrain_history.csv", pd.DataFrame(history, columns=["epoch", "lr", "train_loss",
                                                                              "train_accuracy", "val_accuracy",
                                                                              "val_loss"]))
    write_json(args.out / "eval.json", {"after_task": args.task, "accuracy": rows, "retrain": info,
                                        "sparsity": chosen["sparsity"],
                                        "capacity": stages.capacity(net, args.task)})
    remove_checkpoint(resume)
    log.info("after task %d: %s", args.task, [round(r["accuracy"], 4) for r in rows])


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--method", required=True, help="config section: cpg or packnet")
    p.add_argument("--task", type=int, required=True)
    p.add_argument("--chosen", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="the task's folder")
    run(main, p)
