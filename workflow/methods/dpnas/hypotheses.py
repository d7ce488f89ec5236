"""Task 2 of the original: hypotheses 2 (no initialisation lottery) and 3 (parameter inference).

``select`` (in the torch-free :mod:`selection`, re-exported here): the ``per_group`` lowest, middle and top
rewarded distinct nets of a search; 6 each in the original.

For every chosen net, ``hypotheses.csv`` rows (accuracy = test accuracy in %, classifier trained for the full
schedule, no early stopping):

- ``random``: the prior exactly as searched (the same random weights, ``arch_seed`` of its first buffer row);
- ``resampled`` (hypothesis 2): the same architecture with fresh random weights, one row per resample seed;
- ``full`` (hypothesis 3): the same architecture, starting from the searched weights, with every parameter trained.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from ...io import write_csv
from .scoring import ScoreConfig, score_full_training, score_prior
from .selection import GROUPS, arch_seed, select  # noqa: F401  (re-exported)
from .tables import HYPOTHESES_COLUMNS, summarize  # noqa: F401  (summarize re-exported)

log = logging.getLogger(__name__)


def fresh_seed(resample_seed: int, rank: int) -> int:
    """Weights of resample ``resample_seed`` of chosen net ``rank``: disjoint from every search seed's range."""
    return 10**12 + 1_000_003 * resample_seed + rank


def _resumable(jobs, partial: Path, run_one) -> pd.DataFrame:
    """Run ``run_one(job) -> row`` for each job, appending to ``partial`` so a rerun skips finished jobs."""
    done = pd.read_csv(partial, float_precision="round_trip").to_dict("records") if partial.exists() else []
    for job in jobs[len(done):]:
        done.append(run_one(job))
        write_csv(partial, pd.DataFrame(done))
        log.info("%s", done[-1])
    return pd.DataFrame(done, columns=HYPOTHESES_COLUMNS)


def resample(chosen: pd.DataFrame, task, cfg: ScoreConfig, search_seed: int, resample_seeds, partial,
             device="cpu") -> pd.DataFrame:
    """``random`` (searched weights) and ``resampled`` (fresh weights per seed) rows for every chosen net."""
    jobs = []
    for c in chosen.itertuples(index=False):
        jobs.append((c, "random", search_seed, c.prior_seed))
        jobs += [(c, "resampled", s, fresh_seed(s, c.rank)) for s in resample_seeds]

    def run_one(job):
        c, kind, seed, weights = job
        score = score_prior(c.net, task, cfg, weights, early_stopping=False, device=device)
        return {"net": c.net, "group": c.group, "kind": kind, "seed": seed, "accuracy": score.acc_test_last}
    return _resumable(jobs, Path(partial), run_one)


def full_train(chosen: pd.DataFrame, task, cfg: ScoreConfig, search_seed: int, epochs: int, partial,
               progress_file=None, device="cpu") -> pd.DataFrame:
    """``full`` rows: every chosen net trained end to end from its searched initial weights."""
    def run_one(c):
        score = score_full_training(c.net, task, cfg, c.prior_seed, epochs, progress_file=progress_file,
                                    device=device)
        return {"net": c.net, "group": c.group, "kind": "full", "seed": search_seed, "accuracy": score.acc_test_last}
    return _resumable(list(chosen.itertuples(index=False)), Path(partial), run_one)
