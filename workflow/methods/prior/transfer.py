"""Downstream Bayesian transfer: for one seed and one N (examples per class), every arm x inference.

All runs start from the pretrained backbone and the same freshly initialised head, and see the same batches:
they differ only in the prior (arm), its scale lambda and the inference. The head has no prior.

- MAP: SGD on U(theta) = CE + (-log p(theta) / N_train), lambda chosen per arm on the target's validation
  split (best validation accuracy, ties to lower validation NLL) from ``prior_scales``.
- SGLD: cyclical SGLD on the same energy at the arm's MAP-selected lambda; test predictions are the Bayesian
  model average of the collected samples (one lambda search serves both inferences: this saves a grid).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import torch

from ... import metrics
from ...data import Split
from ...errors import UserError
from ...training import TrainConfig, Trainer, evaluate, seed_everything, set_threads
from .density import ARMS, PriorLoss, build_prior
from .files import load_prior
from .networks import build_network
from .sgld import SGLD, CyclicCosine, SampleCollector, bma_probs
from .tables import TRANSFER_COLUMNS, transfer_summary, transfer_table  # noqa: F401  (re-exported)


def subsample(split: Split, n_per_class: int, seed: int) -> Split:
    """``n_per_class`` training examples of every class; nested in N for a fixed seed (the first N of one
    per-class permutation), so the curves over N compare like with like."""
    g = torch.Generator().manual_seed(10_007 * seed + 17)
    picked = []
    for c in torch.unique(split.y).tolist():
        ids = torch.nonzero(split.y == c).flatten()
        if n_per_class > len(ids):
            raise UserError(f"prior.transfer.n_per_class asks for {n_per_class} examples of class {c} but the "
                            f"target training split has {len(ids)}; lower n_per_class")
        picked.append(ids[torch.randperm(len(ids), generator=g)][:n_per_class])
    idx = torch.sort(torch.cat(picked)).values
    return Split(split.x[idx], split.y[idx])


def epochs_for(steps: int, n_train: int, batch_size: int) -> int:
    """Epochs giving at least ``steps`` optimiser steps: small N trains as many steps as large N."""
    return max(1, math.ceil(steps / math.ceil(n_train / batch_size)))


class Runner:
    """Builds networks from the prior files and runs one (arm, lambda, inference) configuration."""

    def __init__(self, prior_prefix, target, params: dict, *, seed: int, device, progress_file=None,
                 threads: int | None = 1):
        self.target, self.params, self.seed, self.device = target, params, seed, device
        self.progress_file, self.threads = progress_file, threads
        set_threads(threads)
        probe = self._fresh_network()
        self.prior = load_prior(prior_prefix, probe.backbone)  # checks the parameter-order manifest
        self.stats = {k: self.prior[k].to(device) for k in ("mean", "variance", "factor")}

    def _fresh_network(self):
        spec = {"model": self.params["model"], "width": self.params.get("width", 1.0)}
        return build_network(spec, self.target.train.x.shape[1:], self.target.num_classes)

    def network(self, run_seed: int):
        seed_everything(run_seed, threads=self.threads)  # the same head initialisation for every arm
        net = self._fresh_network()
        net.backbone.load_state_dict(self.prior["model"]["state_dict"])
        return net.to(self.device)

    def hooks(self, net, arm: str, scale: float | None, n_train: int) -> list:
        prior = build_prior(arm, self.stats, scale, self.params["transfer"]["eps"]) if arm != "sgd" else None
        return [PriorLoss(prior, net.backbone.parameters(), n_train)] if prior is not None else []

    def map_run(self, train: Split, arm: str, scale: float | None, run_seed: int):
        t = self.params["transfer"]
        net = self.network(run_seed)
        cfg = TrainConfig.from_dict({**t["train"], "epochs": epochs_for(t["steps"], len(train),
                                                                        t["train"]["batch_size"])})
        Trainer(net, cfg, hooks=self.hooks(net, arm, scale, len(train)), device=self.device, seed=run_seed,
                desc=f"map {arm} lambda={scale}", progress_file=self.progress_file).fit(train)
        return {"val": evaluate(net, self.target.val, device=self.device),
                "test": evaluate(net, self.target.test, device=self.device), "net": net}

    def sgld_run(self, train: Split, arm: str, scale: float | None, run_seed: int):
        t, s = self.params["transfer"], self.params["transfer"]["sgld"]
        net = self.network(run_seed)
        batches = math.ceil(len(train) / t["train"]["batch_size"])
        cycle_epochs = max(s["samples_per_cycle"], math.ceil(epochs_for(s["steps"], len(train),
                                                                         t["train"]["batch_size"]) / s["cycles"]))
        cfg = TrainConfig.from_dict({"epochs": cycle_epochs * s["cycles"], "batch_size": t["train"]["batch_size"],
                                     "schedule": "constant", "lr": s["lr"],
                                     "grad_clip": t["train"].get("grad_clip")})
        opt = SGLD([p for p in net.parameters() if p.requires_grad], lr=s["lr"], n_train=len(train),
                   temperature=s["temperature"])
        sampler = SampleCollector(cycle_epochs, s["samples_per_cycle"])
        hooks = [CyclicCosine(s["lr"], cycle_epochs, batches, s["explore_fraction"]),
                 *self.hooks(net, arm, scale, len(train)), sampler]
        Trainer(net, cfg, optimizers=[opt], hooks=hooks, device=self.device, seed=run_seed,
                desc=f"sgld {arm} lambda={scale}", progress_file=self.progress_file).fit(train)
        out = {}
        for name, split in (("val", self.target.val), ("test", self.target.test)):
            probs = bma_probs(net, sampler.samples, split.x, device=self.device)
            out[name] = metrics.probs_metrics(probs, split.y)
        out["samples"] = len(sampler.samples)
        return out


def select(rows: list[dict], by: str = "accuracy") -> dict:
    """The run with the best validation score (accuracy: highest, ties to lower NLL; nll: lowest)."""
    if by == "nll":
        return min(rows, key=lambda r: (r["val_nll"], -r["val_accuracy"]))
    return max(rows, key=lambda r: (r["val_accuracy"], -r["val_nll"]))


class RunCache:
    """Finished runs of a job, one JSON line each, so a killed job resumes after its last finished run."""

    def __init__(self, path=None):
        self.path = Path(path) if path else None
        self.done = {}
        if self.path and self.path.exists():
            for line in self.path.read_text().splitlines():
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:  # a line cut by the kill
                    continue
                self.done[rec["key"]] = rec["row"]

    def get(self, key: str, compute):
        if key not in self.done:
            self.done[key] = compute()
            if self.path:
                with open(self.path, "a") as fh:
                    fh.write(json.dumps({"key": key, "row": self.done[key]}) + "\n")
        return dict(self.done[key])


def run_transfer(prior_prefix, target, params: dict, *, seed: int, n_per_class: int, device,
                 progress_file=None, cache_path=None, threads: int | None = 1) -> pd.DataFrame:
    """Every run of one (seed, N): MAP over the lambda grid per arm, then SGLD at the selected lambda.
    Returns one row per run with validation and test metrics and a ``selected`` flag. Runs already recorded
    in ``cache_path`` (a job killed half-way) are not redone: each run reseeds, so the result is the same.
    ``threads``: torch's thread count for every run (the job's ``compute.threads``; None keeps the caller's)."""
    t = params["transfer"]
    train = subsample(target.train, n_per_class, seed)
    run_seed = 1000 * seed + n_per_class
    runner = Runner(prior_prefix, target, params, seed=seed, device=device, progress_file=progress_file,
                    threads=threads)
    cache = RunCache(cache_path)
    rows = []

    def row(arm, inference, scale, res):
        return {"arm": arm, "inference": inference, "n_per_class": n_per_class, "prior_scale": scale,
                "val_accuracy": res["val"]["accuracy"], "val_nll": res["val"]["nll"],
                "accuracy": res["test"]["accuracy"], "nll": res["test"]["nll"], "ece": res["test"]["ece"],
                "selected": False}

    for arm in t["arms"]:
        if arm not in ARMS:
            raise UserError(f"prior.transfer.arms: unknown arm '{arm}'; allowed: {', '.join(ARMS)}")
        scales = [None] if arm == "sgd" else [float(s) for s in t["prior_scales"]]
        grid = [cache.get(f"map/{arm}/{s}", lambda s=s: row(arm, "map", s, runner.map_run(train, arm, s, run_seed)))
                for s in scales]
        best = select(grid, t.get("select_by", "accuracy"))
        best["selected"] = True
        rows += grid
        if "sgld" in t["inference"]:
            scale = best["prior_scale"]
            res = cache.get(f"sgld/{arm}/{scale}",
                            lambda: row(arm, "sgld", scale, runner.sgld_run(train, arm, scale, run_seed)))
            rows.append({**res, "selected": True})
    frame = pd.DataFrame(rows)
    if "map" not in t["inference"]:
        frame.loc[frame["inference"] == "map", "selected"] = False
    return frame
