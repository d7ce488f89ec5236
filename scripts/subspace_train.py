"""Rule `subspace_train`: train one model (standard network or a line / curve / simplex subspace)."""

from pathlib import Path

import pandas as pd

from workflow.cli import Progress, add_run_arguments, log, parser, run
from workflow.io import remove_checkpoint, torch_save, write_csv
from workflow.methods.common import load_suite
from workflow.methods.subspace.training import model_seed, train_model


def main(args):
    task = load_suite(args.data, args.suite)[0]
    device = args.device
    resume = args.out.with_name(f".{args.model}.resume.pt")  # not declared: survives a killed job
    net, spec, history = train_model(task, args.model, args.params, seed=model_seed(args.seed, args.model), device=device,
                                     checkpoint_path=resume, progress_file=Progress.stream,
                                     threads=args.compute.get("threads", 1))
    torch_save(args.out, {"state_dict": net.state_dict(), "model": args.model, "config": args.params})
    write_csv(args.history, pd.DataFrame(history))
    remove_checkpoint(resume)
    log.info("%s: final val accuracy (midpoint) %.4f", args.model, history[-1].get("val_accuracy", float("nan")))


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--model", required=True, help="standard<k>, line, curve, simplex<n>, ..._layerwise")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--history", type=Path, required=True)
    run(main, p)
