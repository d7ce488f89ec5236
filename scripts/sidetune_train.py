"""Rules `sidetune_train` / `sidetune_baseline_train`: one lifelong method on the task suite, tasks in order;
R after every task, summary, trained network (and side-tuning's learned alphas)."""

from pathlib import Path

import pandas as pd

from workflow.cli import Progress, add_run_arguments, log, parser, run
from workflow.io import remove_checkpoint, torch_save, write_csv, write_json
from workflow.methods import sidetune
from workflow.methods.common import load_suite, write_continual_results
from workflow.methods.sidetune.artifacts import load_base, load_features, load_side


def main(args):
    device = args.device
    tasks = load_suite(args.data, args.suite)
    extra = {"method": args.method, "seed": args.seed}
    resume = args.out / ".resume.pt"  # not a declared output: survives a killed job, removed on success
    if args.method == "independent":
        r, info = sidetune.run_independent(tasks, params=args.params, seed=args.seed, device=device,
                                           progress_file=Progress.stream)
        torch_save(args.out / "model.pt", {"results": info["results"]})
        write_csv(args.out / "history.csv", pd.DataFrame(
            [{"task": res["task"], "val_accuracy": res["val"]["accuracy"]} for res in info["results"]]))
    else:
        backbone, state = load_base(args.base)
        side = load_side(args.side) if args.side else None
        cache = load_features(args.features, state["sha256"]) if args.features else None
        net, r, info = sidetune.run_sequence(args.method, tasks, backbone=backbone, side_init=side,
                                             params=args.params, seed=args.seed, device=device, cache=cache,
                                             resume_path=resume, progress_file=Progress.stream)
        base_after = sidetune.state_hash(net.base.net) if hasattr(net, "base") else None
        extra.update(base_sha256=state["sha256"], base_unchanged=(base_after == state["sha256"]) if base_after else None,
                     cached_features=info["cached_features"],
                     trainable_parameters=sum(p.numel() for n, p in net.named_parameters()
                                              if not n.startswith("base.")))
        if "alphas" in info:
            extra["alphas"] = info["alphas"]
        torch_save(args.out / "model.pt", {"state_dict": net.cpu().state_dict(), "method": args.method,
                                           "params": dict(args.params)})
        write_csv(args.out / "history.csv", pd.DataFrame(info["history"]))
    log.info("%s seconds per task: %s", args.method, [round(s, 2) for s in info["seconds_per_task"]])
    summary = write_continual_results(args.out, r, extra_summary=extra, params=args.params, device=device)
    if args.method == "sidetune":
        write_csv(args.out / "alphas.csv", pd.DataFrame({"task": range(len(tasks)), "alpha": info["alphas"]}))
    remove_checkpoint(resume)
    log.info("%s: average accuracy %.4f, forgetting %.4f", args.method, summary["average_accuracy"],
             summary["forgetting"])


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--method", required=True, choices=sidetune.SIDETUNE_METHODS)
    p.add_argument("--base", type=Path, default=None, help="pretrained base (all but independent)")
    p.add_argument("--side", type=Path, default=None, help="distilled side (sidetune, pnn)")
    p.add_argument("--features", type=Path, default=None, help="cached base features (sidetune, features)")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
