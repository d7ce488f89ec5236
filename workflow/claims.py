"""The paper-claims table: for each method, a claim of its paper, what this run measured (over all seeds of the
config), pass or fail, and the paper's own number for its own setting beside an empty column for a GPU run of
``config/paper.yaml``. Claims read only result tables (the inputs of the ``claims`` rule)."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pandas as pd

COLUMNS = ["method", "claim", "measured", "passed", "runs", "paper_setting", "paper_value", "paper_config_run"]


class Results:
    """A method's result files among the given paths: ``results/<method>/<suite or dataset>/seed<S>/<name>``."""

    def __init__(self, paths):
        self.paths = [Path(p) for p in paths]

    def files(self, method: str, name: str) -> list[Path]:
        return sorted(p for p in self.paths if len(p.parts) >= 2 and p.parts[1] == method and p.name == name)

    def summaries(self, method: str) -> list[dict]:
        return [json.loads(p.read_text()) for p in self.files(method, "summary.json")]

    def tables(self, method: str, name: str) -> list[pd.DataFrame]:
        return [pd.read_csv(p) for p in self.files(method, name)]

    def mean(self, method: str, key: str) -> float:
        return statistics.fmean(s[key] for s in self.summaries(method))


@dataclass(frozen=True)
class Claim:
    method: str
    claim: str
    measure: Callable[[Results], tuple[str, bool]]  # -> (what was measured, passed)
    needs: tuple[str, ...]                          # methods whose results it reads
    paper_setting: str
    paper_value: str


def _no_forgetting(method):
    def measure(r: Results):
        worst = max(s["forgetting"] for s in r.summaries(method))
        return f"max forgetting {worst:.4f}", worst == 0.0
    return measure


def _at_least(method, other, tolerance=0.0):
    def measure(r: Results):
        a, b = r.mean(method, "average_accuracy"), r.mean(other, "average_accuracy")
        return f"{method} {a:.4f} vs {other} {b:.4f}", a >= b - tolerance
    return measure


def _dpnas_low_eps(r: Results):
    low = statistics.fmean(s["mean_reward_lowest_eps"] for s in r.summaries("dpnas"))
    high = statistics.fmean(s["mean_reward_eps1"] for s in r.summaries("dpnas"))
    return f"reward at lowest epsilon {low:.3f} vs epsilon 1 {high:.3f}", low > high


def _subspace_midpoint(r: Results):
    runs = r.summaries("subspace")
    mid = statistics.fmean(s["line"]["midpoint"] for s in runs)
    ends = [statistics.fmean(s["line"]["endpoints"][k] for s in runs) for k in (0, 1)]
    std = statistics.fmean(s["standard_accuracy"] for s in runs)
    return (f"line midpoint {mid:.4f}, endpoints {ends[0]:.4f} / {ends[1]:.4f}, standard {std:.4f}",
            mid >= max(ends) and mid >= std)


def _subspace_ensemble(r: Results):
    runs = r.summaries("subspace")
    ens = statistics.fmean(s["line"]["endpoint_ensemble"] for s in runs)
    best = max(statistics.fmean(s["line"]["endpoints"][k] for s in runs) for k in (0, 1))
    return f"alpha / 1-alpha ensemble at alpha 0 {ens:.4f} vs best endpoint {best:.4f}", ens > best


def _prior_small_n(r: Results):
    runs = pd.concat(r.tables("prior", "transfer.csv"))
    runs = runs[runs["inference"] == "map"]
    acc = runs.groupby(["n_per_class", "arm"])["accuracy"].mean().unstack()
    gaps = acc["learned"] - acc["isotropic"]
    n0, n1 = gaps.index.min(), gaps.index.max()
    trend = ", ".join(f"N={n}: {g:+.4f}" for n, g in gaps.items())
    return f"MAP learned - isotropic accuracy by N per class: {trend}", gaps[n0] >= 0 and gaps[n1] <= gaps[n0]


CLAIMS: list[Claim] = [
    Claim("cpg", "CPG does not forget: R[i, j] is constant for i >= j", _no_forgetting("cpg"), ("cpg",),
          "CIFAR-100, 20 superclass tasks, VGG16-BN", "forgetting 0 by construction; avg acc 80.9%"),
    Claim("cpg", "CPG's average accuracy is within 1 point of the independent baselines or better",
          _at_least("cpg", "baseline", 0.01), ("cpg", "baseline"),
          "CIFAR-100, 20 superclass tasks, VGG16-BN", "CPG 80.9% (per-task values average 81.2%)"),
    Claim("packnet", "PackNet (no picking) is not above CPG", _at_least("cpg", "packnet"), ("cpg", "packnet"),
          "CIFAR-100, 20 superclass tasks, VGG16-BN", "PackNet 67.5% vs CPG 80.9%"),
    Claim("sidetune", "side-tuning does not forget", _no_forgetting("sidetune"), ("sidetune",),
          "iCIFAR: CIFAR-100 10 x 10, ResNet-44 base from CIFAR-10", "forgetting 0 by construction"),
    Claim("sidetune", "side-tuning is at least as accurate as features (frozen base + heads)",
          _at_least("sidetune", "features"), ("sidetune", "features"),
          "iCIFAR: CIFAR-100 10 x 10, ResNet-44 base from CIFAR-10", "side-tuning ~76% average accuracy"),
    Claim("prior", "at the smallest N the learned prior is at least as accurate as the isotropic prior "
          "(the gap narrows as N grows)", _prior_small_n, ("prior",),
          "torchvision ResNet-50 prior, Oxford Pets / Flowers downstream",
          "no number published; abstract: significant gains and more data-efficient learning"),
    Claim("subspace", "the line's midpoint is at least as accurate as both endpoints and as standard training",
          _subspace_midpoint, ("subspace",), "CIFAR-10, cResNet-20 (figure 4)",
          "figure 4: midpoint above endpoints and standard training (axis 0.913-0.935)"),
    Claim("subspace", "the alpha / 1-alpha ensemble is above a single endpoint", _subspace_ensemble, ("subspace",),
          "CIFAR-10, cResNet-20 (figure 4)", "approaches the standard ensemble of two"),
    Claim("dpnas", "the low-epsilon phase finds better deep priors than random search (epsilon = 1)",
          _dpnas_low_eps, ("dpnas",), "FashionMNIST, 1500 at eps 1, 100 per eps 0.9..0.1",
          "rolling reward ~0.55-0.75 at eps 1, ~0.88-0.90 at eps 0.1-0.2"),
]


def evaluate_claims(paths, methods) -> pd.DataFrame:
    """One row per claim whose methods ran; a claim whose results are missing says so instead of passing."""
    results = Results(paths)
    rows = []
    for c in CLAIMS:
        if not all(m in methods for m in c.needs):
            continue
        runs = len(results.files(c.method if c.method in c.needs else c.needs[0], "summary.json"))
        if any(not results.files(m, "summary.json") for m in c.needs):
            measured, passed = "no results", False
        else:
            measured, passed = c.measure(results)
        rows.append({"method": c.method, "claim": c.claim, "measured": measured, "passed": bool(passed),
                     "runs": runs, "paper_setting": c.paper_setting, "paper_value": c.paper_value,
                     "paper_config_run": ""})
    return pd.DataFrame(rows, columns=COLUMNS)
