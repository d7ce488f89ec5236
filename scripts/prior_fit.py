"""Rule `prior_fit`: SWAG on the source task from the pretrained network; writes the prior files + manifest."""

import copy
import json
from pathlib import Path

import pandas as pd

from workflow.cli import Progress, log, parser, run
from workflow.io import remove_checkpoint, torch_load, write_csv
from workflow.methods.common import load_suite
from workflow.methods.prior import files, stages
from workflow.methods.prior.networks import build_network


def main(args):
    task = load_suite(args.data, args.suite)[args.params["source_task"]]
    device = args.device
    saved = torch_load(args.pretrained)
    net = build_network(saved["network"], saved["network"]["in_shape"], task.num_classes)
    net.load_state_dict(saved["state_dict"])
    net.to(device)
    pretrained_backbone = copy.deepcopy(net.backbone.state_dict())  # downstream runs start here
    resume = args.out / ".fit.resume.pt"
    stats, history = stages.fit_prior(net, task, args.params["swag"], seed=args.params["source_seed"],
                                      device=device, checkpoint_path=resume, progress_file=Progress.stream,
                                      threads=args.compute.get("threads", 1))
    summary = stages.swag_summary(stats)
    files.save_prior(args.out / "prior", backbone=net.backbone, model_state=pretrained_backbone,
                     network=saved["network"], stats=stats, extra={"swag": summary})
    write_csv(args.out / "swag_history.csv", pd.DataFrame(history))
    remove_checkpoint(resume)
    log.info("prior fitted: %s", summary)


if __name__ == "__main__":
    p = parser(__doc__)
    p.add_argument("--data", type=Path, required=True)
    p.add_argument("--suite", type=json.loads, required=True, help="source suite spec as JSON")
    p.add_argument("--compute", type=json.loads, default={"device": "auto", "threads": 1})
    p.add_argument("--pretrained", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True, help="folder for prior_{model,mean,variance,covmat}.pt")
    run(main, p)
