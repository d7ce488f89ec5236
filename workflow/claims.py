"""The paper-claims table (``results/claims.csv``): each claim of a method's paper judged by statistics over seeds,
beside the paper's own number for its own setting and an empty column for a GPU run of ``config/paper.yaml``.
Claims read only result tables (the inputs of the ``claims`` rule).

Every row is one paired comparison of two quantities measured in the same seed: a_s and b_s (for example CPG's
average accuracy and the baseline's, both in seed s; for a no-forgetting claim a_s = 0 and b_s = abs(forgetting)).
The claim says a_s - b_s + tolerance >= 0 (``> 0`` for a strict claim such as "better than"); that number is the
seed's margin d_s. Only seeds present on both sides are paired; seeds found on one side only are listed in the
row (``unpaired_seeds``) and never enter the numbers. A compound claim ("above both endpoints and standard
training") is split into one row per comparison.

The verdict, from the n paired seeds, the mean of their margins and its standard error SE = std(d) / sqrt(n)
(sample standard deviation, ddof = 1):

- ``no results``: a method the claim needs has no result files.
- ``too few seeds``: fewer than MIN_SEEDS (3) paired seeds, whatever the numbers; a claim never holds on fewer.
- ``holds``: the claim holds in every seed, or the mean margin is more than Z (2) standard errors on the
  claimed side of zero.
- ``fails``: the mean margin is more than Z standard errors on the other side, or the claim fails in every seed.
  An exact claim (no forgetting, which holds by construction) fails as soon as one seed shows forgetting.
- ``indistinguishable``: anything else; the seeds disagree and their mean is within noise of the claimed bound.

With zero spread (all margins equal) the every-seed rules decide: all margins met -> holds, none met -> fails.
The diff columns are of a_s - b_s (the margin without the tolerance), so ``diff_mean + tolerance`` against
``Z * diff_se`` reproduces the statistical part of the verdict.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from .paths import PAPER_CLAIMS

MIN_SEEDS = 3   # fewer paired seeds than this: "too few seeds", never "holds"
Z = 2.0         # a mean margin beyond Z standard errors from zero decides the verdict

HOLDS, FAILS, INDISTINGUISHABLE, TOO_FEW, NO_RESULTS = (
    "holds", "fails", "indistinguishable", "too few seeds", "no results")

COLUMNS = ["method", "claim", "quantity_a", "quantity_b", "tolerance", "test", "seeds", "unpaired_seeds",
           "per_seed_verdicts", "a_mean", "a_std", "b_mean", "b_std", "diff_mean", "diff_std", "diff_se",
           "verdict", "measured", "paper_setting", "paper_value", "paper_config_run"]

_SEED = re.compile(r"seed(\d+)")


class Results:
    """A method's result files among the given paths: ``results/<method>/<suite or dataset>/seed<S>/<name>``."""

    def __init__(self, paths):
        self.paths = [Path(p) for p in paths]

    def files(self, method: str, name: str) -> list[Path]:
        return sorted(p for p in self.paths if len(p.parts) >= 2 and p.parts[1] == method and p.name == name)

    def has(self, method: str) -> bool:
        return any(len(p.parts) >= 2 and p.parts[1] == method for p in self.paths)

    def by_seed(self, method: str, name: str) -> dict[int, Path]:
        """{seed: file}, the seed read from the ``seed<S>`` part of the path; one file per seed."""
        out: dict[int, Path] = {}
        for p in self.files(method, name):
            seeds = [int(m.group(1)) for part in p.parts[:-1] if (m := _SEED.fullmatch(part))]
            if len(seeds) != 1:
                raise ValueError(f"{p}: no single seed<S> folder in the path")
            if seeds[0] in out:
                raise ValueError(f"{method}: two {name} files for seed {seeds[0]} ({out[seeds[0]]}, {p}); "
                                 "claims pair results by seed")
            out[seeds[0]] = p
        return out

    def summary_values(self, method: str, value: Callable[[dict], float]) -> dict[int, float]:
        """{seed: value(summary.json)} of a method."""
        return {s: float(value(json.loads(p.read_text())))
                for s, p in self.by_seed(method, "summary.json").items()}

    def tables(self, method: str, name: str) -> dict[int, pd.DataFrame]:
        return {s: pd.read_csv(p) for s, p in self.by_seed(method, name).items()}


@dataclass(frozen=True)
class Paired:
    """What a claim measured: the names of its two quantities and their values per seed."""
    quantity_a: str
    quantity_b: str
    a: dict[int, float]
    b: dict[int, float]


@dataclass(frozen=True)
class Claim:
    method: str
    claim: str
    measure: Callable[[Results], Paired]
    needs: tuple[str, ...]          # methods whose results it reads
    paper_setting: str
    paper_value: str
    tolerance: float = 0.0          # the claim: a - b + tolerance >= 0 (> 0 when strict)
    strict: bool = False
    exact: bool = False             # holds by construction: one failing seed refutes it


# --- the statistics -----------------------------------------------------------------------------------------

def _std(values: np.ndarray) -> float:
    return float(np.std(values, ddof=1)) if len(values) >= 2 else math.nan


def seed_holds(margin: float, strict: bool) -> bool:
    return margin > 0 if strict else margin >= 0


def verdict(margins, strict: bool = False, exact: bool = False) -> str:
    """The verdict on paired margins d_s = a_s - b_s + tolerance (see the module docstring)."""
    d = np.asarray(margins, dtype=float)
    n = len(d)
    if n < MIN_SEEDS:
        return TOO_FEW
    held = [seed_holds(x, strict) for x in d]
    if all(held):
        return HOLDS
    if exact or not any(held):
        return FAILS
    mean, se = float(d.mean()), _std(d) / math.sqrt(n)
    if mean > Z * se:
        return HOLDS
    if mean < -Z * se:
        return FAILS
    return INDISTINGUISHABLE


def _fmt(x: float) -> str:
    return "nan" if math.isnan(x) else f"{x:.4f}"


def judge(c: Claim, p: Paired) -> dict:
    """One row of the table from a claim and its paired measurements."""
    seeds = sorted(set(p.a) & set(p.b))
    only_a, only_b = sorted(set(p.a) - set(p.b)), sorted(set(p.b) - set(p.a))
    unpaired = "; ".join(f"only {name}: seed{'s' if len(s) > 1 else ''} {', '.join(map(str, s))}"
                         for name, s in ((p.quantity_a, only_a), (p.quantity_b, only_b)) if s)
    a = np.array([p.a[s] for s in seeds], dtype=float)
    b = np.array([p.b[s] for s in seeds], dtype=float)
    diff = a - b
    margins = diff + c.tolerance
    n = len(seeds)
    mean = (lambda v: float(v.mean()) if n else math.nan)
    row = {
        "quantity_a": p.quantity_a, "quantity_b": p.quantity_b, "seeds": n, "unpaired_seeds": unpaired,
        "per_seed_verdicts": ";".join(f"{s}:{HOLDS if seed_holds(m, c.strict) else FAILS}"
                                      for s, m in zip(seeds, margins)),
        "a_mean": mean(a), "a_std": _std(a), "b_mean": mean(b), "b_std": _std(b),
        "diff_mean": mean(diff), "diff_std": _std(diff), "diff_se": _std(diff) / math.sqrt(n) if n else math.nan,
        "verdict": verdict(margins, c.strict, c.exact),
    }
    held = sum(seed_holds(m, c.strict) for m in margins)
    if c.exact:
        measured = f"max {p.quantity_b} {_fmt(float(b.max()) if n else math.nan)}"
    else:
        measured = (f"{_fmt(row['a_mean'])} vs {_fmt(row['b_mean'])}, a - b {row['diff_mean']:+.4f} "
                    f"(SE {_fmt(row['diff_se'])})")
    measured += f", holds in {held} of {n} seeds"
    if unpaired:
        measured += f"; unpaired: {unpaired}"
    row["measured"] = measured
    return row


# --- the claims' measurements -------------------------------------------------------------------------------

def no_forgetting(method):
    def measure(r: Results):
        f = r.summary_values(method, lambda s: abs(s["forgetting"]))
        return Paired("zero", f"{method} absolute forgetting", {s: 0.0 for s in f}, f)
    return measure


def accuracy_at_least(method, other):
    def measure(r: Results):
        key = lambda s: s["average_accuracy"]  # noqa: E731
        return Paired(f"{method} average accuracy", f"{other} average accuracy",
                      r.summary_values(method, key), r.summary_values(other, key))
    return measure


def forgets_less(method, other):
    """a = ``other``'s forgetting, b = ``method``'s, per seed: the claim a > b (strict) says ``method`` forgets less."""
    def measure(r: Results):
        key = lambda s: s["forgetting"]  # noqa: E731
        return Paired(f"{other} forgetting", f"{method} forgetting", r.summary_values(other, key),
                      r.summary_values(method, key))
    return measure


def _dpnas_low_eps(r: Results):
    return Paired("dpnas mean reward at the lowest epsilon", "dpnas mean reward at epsilon 1",
                  r.summary_values("dpnas", lambda s: s["mean_reward_lowest_eps"]),
                  r.summary_values("dpnas", lambda s: s["mean_reward_eps1"]))


def _best_endpoint(s: dict) -> float:
    return max(s["line"]["endpoints"][k] for k in (0, 1))


def _subspace(quantity_a, value_a, quantity_b, value_b):
    def measure(r: Results):
        return Paired(quantity_a, quantity_b, r.summary_values("subspace", value_a),
                      r.summary_values("subspace", value_b))
    return measure


def _prior_map(r: Results) -> tuple[dict[int, pd.DataFrame], int | None, int | None]:
    """Per transfer seed the MAP accuracy by N per class (rows) and arm (columns); SGLD rows do not count. And
    the smallest and largest N of all seeds (None without MAP rows)."""
    acc = {}
    for seed, t in r.tables("prior", "transfer.csv").items():
        acc[seed] = t[t["inference"] == "map"].groupby(["n_per_class", "arm"])["accuracy"].mean().unstack()
    ns = sorted({int(n) for a in acc.values() for n in a.index})
    return acc, (ns[0] if ns else None), (ns[-1] if ns else None)


def _arm(acc: dict[int, pd.DataFrame], n, arm: str, minus: str | None = None) -> dict[int, float]:
    """{seed: accuracy of the arm at N = n} (minus the other arm's), for the seeds that measured it."""
    out = {}
    for seed, a in acc.items():
        value = a[arm].get(n, math.nan) if arm in a else math.nan
        if minus is not None:
            value -= a[minus].get(n, math.nan) if minus in a else math.nan
        if not math.isnan(value):
            out[seed] = float(value)
    return out


def _prior_small_n(r: Results):
    acc, n0, _ = _prior_map(r)
    return Paired(f"learned prior MAP accuracy at N={n0}", f"isotropic prior MAP accuracy at N={n0}",
                  _arm(acc, n0, "learned"), _arm(acc, n0, "isotropic"))


def _prior_narrowing(r: Results):
    acc, n0, n1 = _prior_map(r)
    return Paired(f"learned - isotropic MAP accuracy at N={n0}", f"learned - isotropic MAP accuracy at N={n1}",
                  _arm(acc, n0, "learned", "isotropic"), _arm(acc, n1, "learned", "isotropic"))


CPG_SETTING = "CIFAR-100, 20 superclass tasks, VGG16-BN"
ICIFAR = "iCIFAR: CIFAR-100 10 x 10, ResNet-44 base from CIFAR-10"
PRIOR_SETTING = "torchvision ResNet-50 prior, Oxford Pets / Flowers downstream"
PRIOR_VALUE = "no number published; abstract: significant gains and more data-efficient learning"
SUBSPACE_SETTING = "CIFAR-10, cResNet-20 (figure 4)"
SUBSPACE_VALUE = "figure 4: midpoint above endpoints and standard training (axis 0.913-0.935)"

CLAIMS: list[Claim] = [
    Claim("cpg", "CPG does not forget: R[i, j] is constant for i >= j", no_forgetting("cpg"), ("cpg",),
          CPG_SETTING, "forgetting 0 by construction; avg acc 80.9%", exact=True),
    Claim("cpg", "CPG's average accuracy is within 1 point of the independent baselines or better",
          accuracy_at_least("cpg", "baseline"), ("cpg", "baseline"),
          CPG_SETTING, "CPG 80.9% (per-task values average 81.2%)", tolerance=0.01),
    Claim("packnet", "PackNet (no picking) is not above CPG", accuracy_at_least("cpg", "packnet"), ("cpg", "packnet"),
          CPG_SETTING, "PackNet 67.5% vs CPG 80.9%"),
    Claim("sidetune", "side-tuning does not forget", no_forgetting("sidetune"), ("sidetune",),
          ICIFAR, "forgetting 0 by construction", exact=True),
    Claim("sidetune", "side-tuning is at least as accurate as features (frozen base + heads)",
          accuracy_at_least("sidetune", "features"), ("sidetune", "features"),
          ICIFAR, "side-tuning ~76% average accuracy"),
    Claim("prior", "at the smallest N the learned prior is at least as accurate as the isotropic prior",
          _prior_small_n, ("prior",), PRIOR_SETTING, PRIOR_VALUE),
    Claim("prior", "the learned - isotropic gap narrows from the smallest to the largest N",
          _prior_narrowing, ("prior",), PRIOR_SETTING, PRIOR_VALUE),
    Claim("subspace", "the line's midpoint is at least as accurate as both endpoints",
          _subspace("subspace line midpoint accuracy", lambda s: s["line"]["midpoint"],
                    "subspace best endpoint accuracy", _best_endpoint),
          ("subspace",), SUBSPACE_SETTING, SUBSPACE_VALUE),
    Claim("subspace", "the line's midpoint is at least as accurate as standard training",
          _subspace("subspace line midpoint accuracy", lambda s: s["line"]["midpoint"],
                    "subspace standard training accuracy", lambda s: s["standard_accuracy"]),
          ("subspace",), SUBSPACE_SETTING, SUBSPACE_VALUE),
    Claim("subspace", "the alpha / 1-alpha ensemble is above a single endpoint",
          _subspace("subspace alpha / 1-alpha ensemble accuracy (alpha 0)", lambda s: s["line"]["endpoint_ensemble"],
                    "subspace best endpoint accuracy", _best_endpoint),
          ("subspace",), SUBSPACE_SETTING, "approaches the standard ensemble of two", strict=True),
    Claim("dpnas", "the low-epsilon phase finds better deep priors than random search (epsilon = 1)",
          _dpnas_low_eps, ("dpnas",), "FashionMNIST, 1500 at eps 1, 100 per eps 0.9..0.1",
          "rolling reward ~0.55-0.75 at eps 1, ~0.88-0.90 at eps 0.1-0.2", strict=True),
]


def all_claims() -> list[Claim]:
    """CLAIMS, then the claims of each method whose registry record names a ``claims`` module (its ``CLAIMS``)."""
    import importlib

    from .methods.registry import METHODS

    return CLAIMS + [c for m in METHODS.values() if m.claims for c in importlib.import_module(m.claims).CLAIMS]


def _test(c: Claim) -> str:
    """The per-seed test in words, e.g. ``per seed: a - b + 0.01 >= 0``."""
    tolerance = f" + {c.tolerance:g}" if c.tolerance else ""
    return f"per seed: a - b{tolerance} {'>' if c.strict else '>='} 0" + (" (exact: one failing seed refutes)"
                                                                         if c.exact else "")


NO_PAPER_RUN = f"no paper-config run yet ({PAPER_CLAIMS})"


def paper_config_column(paper_claims: Path | str | None) -> dict[tuple[str, str, str, str], str] | None:
    """(method, claim, quantity_a, quantity_b) -> "<verdict>: <measured> (<n> seeds)" from a paper-config run's
    claims table; None when there is none."""
    if paper_claims is None or not Path(paper_claims).exists():
        return None
    table = pd.read_csv(paper_claims, keep_default_na=False)
    missing = {"method", "claim", "quantity_a", "quantity_b", "seeds", "verdict", "measured"} - set(table.columns)
    if missing:
        raise ValueError(f"{paper_claims} is not a claims table (no column {', '.join(sorted(missing))}): copy the "
                         f"results/claims.csv of a config/paper.yaml run there")
    return {(r.method, r.claim, r.quantity_a, r.quantity_b): f"{r.verdict}: {r.measured} ({r.seeds} seeds)"
            for r in table.itertuples()}


def evaluate_claims(paths, methods, paper_claims: Path | str | None = None) -> pd.DataFrame:
    """One row per comparison of each claim whose methods are enabled; a claim whose results are missing says
    ``no results`` instead of passing. ``paper_claims``: a paper-config run's claims table, which fills the
    ``paper_config_run`` column (:data:`PAPER_CLAIMS`)."""
    results = Results(paths)
    rows = []
    for c in all_claims():
        if not all(m in methods for m in c.needs):
            continue
        head = {"method": c.method, "claim": c.claim, "tolerance": c.tolerance, "test": _test(c),
                "paper_setting": c.paper_setting, "paper_value": c.paper_value}
        missing = [m for m in c.needs if not results.has(m)]
        paired = None if missing else c.measure(results)
        if paired is not None and not (paired.a and paired.b):
            missing = [name for name, side in ((paired.quantity_a, paired.a), (paired.quantity_b, paired.b))
                       if not side]
        if missing:
            row = {"seeds": 0, "unpaired_seeds": "", "per_seed_verdicts": "", "verdict": NO_RESULTS,
                   "measured": f"no results for {', '.join(missing)}"}
        else:
            row = judge(c, paired)
        rows.append({**head, **row})
    table = pd.DataFrame(rows, columns=COLUMNS)
    paper = paper_config_column(paper_claims)
    table["paper_config_run"] = [
        NO_PAPER_RUN if paper is None else paper.get((r.method, r.claim, r.quantity_a, r.quantity_b),
                                                     "not in the paper-config run") for r in table.itertuples()]
    return table

