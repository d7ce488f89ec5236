"""Rule `bsp_train`: Binary Superposition on side-tuning's task suite, tasks in order, from side-tuning's base:
R after every task, summary, trained network (a state dict), training history."""

from pathlib import Path

import pandas as pd

from workflow.cli import Progress, add_run_arguments, log, parser, run
from workflow.io import remove_checkpoint, torch_save, write_csv
from workflow.methods.bsp.network import build_network, context_layers
from workflow.methods.common import load_suite, write_continual_results
from workflow.methods.sidetune.artifacts import load_base
from workflow.methods.sidetune.lifelong import run_sequence


def main(args):  # run's context has set compute.threads, the seed and args.device
    device = args.device
    tasks = load_suite(args.data, args.suite)
    bsp = args.params["bsp"]
    backbone, state = load_base(args.base)
    net = build_network(backbone, state, init=bsp["init"], context_seed=bsp["context_seed"],
                        num_classes=[t.num_classes for t in tasks], head_groups=args.params["head_groups"],
                        image_shape=tasks[0].train.x.shape[1:])
    resume = args.out / ".resume.pt"  # not a declared output: survives a killed job, removed on success
    net, r, info = run_sequence("bsp", tasks, backbone=None, side_init=None, params=args.params, seed=args.seed,
                                device=device, resume_path=resume, progress_file=Progress.stream, network=net)
    extra = {"method": "bsp", "seed": args.seed, "init": bsp["init"], "context_seed": bsp["context_seed"],
             "base_sha256": state["sha256"], "context_layers": len(context_layers(net.trunk)),
             "trainable_parameters": sum(p.numel() for p in net.parameters())}
    torch_save(args.out / "model.pt", {"state_dict": net.cpu().state_dict(), "method": "bsp",
                                       "params": dict(args.params)})
    write_csv(args.out / "history.csv", pd.DataFrame(info["history"]))
    log.info("bsp seconds per task: %s", [round(s, 2) for s in info["seconds_per_task"]])
    summary = write_continual_results(args.out, r, extra_summary=extra, params=args.params, device=device)
    remove_checkpoint(resume)
    log.info("bsp: average accuracy %.4f, forgetting %.4f", summary["average_accuracy"], summary["forgetting"])


if __name__ == "__main__":
    p = parser(__doc__)
    add_run_arguments(p)
    p.add_argument("--base", type=Path, required=True, help="side-tuning's pretrained base (its weights or, with "
                   "bsp.init scratch, its architecture)")
    p.add_argument("--out", type=Path, required=True)
    run(main, p)
