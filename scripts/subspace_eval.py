"""Rule `subspace_eval`: accuracy along alpha (BatchNorm recomputed per point), alpha / 1-alpha ensembles,
simplex centroids, against standard training and a standard ensemble of two."""

import numpy as np
import pandas as pd

from workflow.io import torch_load, write_csv
from workflow.methods.common import load_suite
from workflow.methods.subspace import alpha_curve, parse_model, simplex_row, standard_rows
from workflow.methods.subspace.evaluation import line_summary
from workflow.methods.subspace.training import build_model
from workflow.provenance import write_summary
from workflow.stage import log, run


def load(path, task, device):
    state = torch_load(path)
    spec = parse_model(state["model"])
    net = build_model(spec, model=state["config"]["model"], in_shape=task.train.x.shape[1:],
                      num_classes=task.num_classes, width=state["config"]["width"])
    net.load_state_dict(state["state_dict"])
    return spec, net.to(device)


def main(job):
    # Evaluation draws no random numbers; the run context (workflow.stage.start_stage) fixed the thread count and
    # deterministic kernels, so the BatchNorm recompute's sums do not depend on the machine's core count.
    device, params = job.device, job.params.method
    task = load_suite(job.input.data.parent, job.params.suite)[0]
    alphas = np.linspace(0, 1, params["alpha_points"])
    standard, curves, simplex = [], [], []
    for path in job.input.models:
        spec, net = load(path, task, device)
        if spec.kind == "standard":
            standard.append(net)
        elif spec.kind == "simplex":
            simplex.append(simplex_row(net, spec, task, device=device))
        else:
            curves.append(alpha_curve(net, spec, task, alphas, device=device))
    std_frame, std_info = standard_rows(standard, task, device=device)
    curve = pd.concat(curves + [std_frame], ignore_index=True)
    write_csv(job.output.curve, curve.round(6))
    simplex_frame = pd.DataFrame(simplex, columns=["model", "vertices", "layerwise", "accuracy", "ece", "cos2", "l2"])
    write_csv(job.output.simplex, simplex_frame.round(6))
    summary = line_summary(curve[curve["model"] != "standard"], std_info, std_frame)
    summary["simplex"] = simplex_frame.round(6).to_dict(orient="records")
    write_summary(job.output.summary, summary, params=params, device=device)
    log.info("summary %s", summary)


if __name__ == "__main__":
    run(main, snakemake)  # noqa: F821 (Snakemake's script: directive defines it)
