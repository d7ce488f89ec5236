"""Rule `subspace_train`: train one model (standard network or a line / curve / simplex subspace)."""

import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, log, parser, run
from workflow.io import torch_save, write_csv
from workflow.methods.common import load_suite
from workflow.methods.subspace.training import model_seed, train_model
from workflow.training import resolve_device


def main(args):
    task = load_suite(args.data, args.suite)[0]
    device = resolve_device(args.compute["device"])
    resume = args.out.with_name(f".{args.model}.resume.pt")  # not declared: survives a killed job
    net, spec, history = train_model(task, args.model, args.params, seed=model_seed(args.seed, args.model), device=device,
                                     checkpoint_path=resume, progress_file=Progress.stream,
                                     threads=args.compute.get("threads", 1))
    torch_save(args.out, {"state_dict": net.state_dict(), "model": args.model, "config": args.params})
    write_csv(args.history, pd.DataFrame(history))
    for f in (resume, resume.with_name(resume.name + ".sha256")):
        f.unlink(missing_ok=True)
    log.info("%s: final val accuracy (midpoint) %.4f", args.model, history[-1].get("val_accuracy", float("nan")))


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True, help="dataset folder (arrays.npz + manifest.json)")
    p.add_argument("--suite", type=json.loads, required=True, help="one-task suite spec as JSON")
    p.add_argument("--compute", type=json.loads, default={"device": "auto", "threads": 1})
    p.add_argument("--model", required=True, help="standard<k>, line, curve, simplex<n>, ..._layerwise")
    p.add_argument("--seed", type=int, required=True, help="the result seed S (each model derives its own seed)")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--history", type=Path, required=True)
    run(main, p)
