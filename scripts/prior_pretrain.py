"""Rule `prior_pretrain`: train the source network (backbone + source head) on the source task."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, log, parser, run
from workflow.io import remove_checkpoint, torch_save, write_csv, write_json
from workflow.methods.common import load_suite
from workflow.methods.prior import stages


def main(args):
    task = load_suite(args.data, args.suite)[args.params["source_task"]]
    device = args.device
    resume = args.out / ".pretrain.resume.pt"  # not a declared output: survives a killed job
    net, history, result = stages.pretrain(task, args.params, seed=args.params["source_seed"], device=device,
                                           checkpoint_path=resume, progress_file=Progress.stream,
                                           threads=args.compute.get("threads", 1))
    torch_save(args.out / "pretrained.pt", {"state_dict": net.state_dict(), "network": result["network"],
                                            "classes": task.classes})
    write_csv(args.out / "pretrain_history.csv", pd.DataFrame(history))
    write_json(args.out / "pretrain.json", {**result, "task": task.index, "classes": task.classes})
    remove_checkpoint(resume)
    log.info("source task %s: val %.4f test %.4f", task.name, result["val"]["accuracy"], result["test"]["accuracy"])


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True, help="dataset folder (arrays.npz + manifest.json)")
    p.add_argument("--suite", type=json.loads, required=True, help="source suite spec as JSON")
    p.add_argument("--compute", type=json.loads, default={"device": "auto", "threads": 1})
    p.add_argument("--out", type=Path, required=True, help="folder for pretrained.pt, pretrain.json, history")
    run(main, p)
