"""The resumable DP-NAS search loop (task 1 of the original).

Per iteration ``i``: sample a net epsilon-greedily; if the net string is already in the replay buffer its stored
metrics are reused (a duplicate row is appended); an infeasible net gets reward 0 untrained; any other net is
scored (:func:`scoring.score_prior`). The row is appended, the agent replays ``replay_number`` nets, and the replay
buffer and Q-values are written as CSV. The epsilon counter advances only when ``reward > 0``.

Resuming: every random choice of iteration ``i`` comes from ``numpy.random.default_rng([seed, i])`` and the
prior's weights from ``arch_seed(seed, i)``, so reloading the two CSVs (floats written with ``repr`` and read
back with ``float_precision="round_trip"``) continues exactly where an interrupted run stopped.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import UserError
from ...io import write_csv
from .netstring import to_string
from .qlearning import Agent, EpsilonSchedule, QTable
from .scoring import Score, ScoreConfig, score_prior
from .selection import arch_seed
from .space import SearchSpace
from .tables import read_buffer

log = logging.getLogger(__name__)

COLUMNS = ["epsilon", "net", "train_flag", "reward", "acc_best_val", "acc_val_all_epochs",
           "acc_train_all_epochs", "acc_test_last"]
BUFFER, QVALUES = "replay_buffer.csv", "q_values.csv"


@dataclass
class SearchConfig:
    """``dpnas.search`` in the config."""

    epsilon_schedule: list = dataclasses.field(default_factory=lambda: [[1.0, 1500]] + [
        [round(e / 10, 1), 100] for e in range(9, 0, -1)] + [[0.0, 3]])
    replay_number: int = 50
    q_learning_rate: float = 0.1
    q_discount: float = 1.0
    q_init: float = 0.15
    max_iterations_factor: int = 20  # safety stop: at most factor x (schedule length) sampled nets

    @classmethod
    def from_dict(cls, d: dict | None) -> "SearchConfig":
        d = dict(d or {})
        unknown = sorted(set(d) - {f.name for f in dataclasses.fields(cls)})
        if unknown:
            raise UserError(f"unknown dpnas.search keys {unknown}")
        return cls(**d)


def score_row(score: Score, epsilon: float, net: str) -> dict:
    return {"epsilon": epsilon, "net": net, "train_flag": bool(score.train_flag), "reward": float(score.reward),
            "acc_best_val": float(score.acc_best_val), "acc_val_all_epochs": json.dumps(score.acc_val_all_epochs),
            "acc_train_all_epochs": json.dumps(score.acc_train_all_epochs),
            "acc_test_last": float(score.acc_test_last)}


INFEASIBLE = Score(train_flag=False, reward=0.0, acc_best_val=0.0, acc_val_all_epochs=[], acc_train_all_epochs=[],
                   acc_test_last=0.0)


def run_search(task, space: SearchSpace, search: SearchConfig, classifier: ScoreConfig, seed: int, state_dir,
               stop_after: int | None = None, device="cpu") -> tuple[pd.DataFrame, QTable]:
    """Run (or continue) a search; ``state_dir`` holds the CSVs written after every architecture.

    ``stop_after`` ends the loop once the buffer has that many rows (to test interruption).
    """
    state_dir = Path(state_dir)
    schedule = EpsilonSchedule(search.epsilon_schedule)
    rows: list[dict] = []
    table = QTable(space, search.q_init)
    if (state_dir / BUFFER).exists() and (state_dir / QVALUES).exists():
        rows = read_buffer(state_dir / BUFFER).to_dict("records")
        for r in rows:
            r["train_flag"] = bool(r["train_flag"])
        table = QTable.from_frame(pd.read_csv(state_dir / QVALUES, float_precision="round_trip"), space,
                                  search.q_init)
        log.info("resuming the search after %d architectures", len(rows))
    agent = Agent(space, table, learning_rate=search.q_learning_rate, discount=search.q_discount)
    first_row = {}
    for i, r in enumerate(rows):
        first_row.setdefault(r["net"], i)
    counted = sum(r["reward"] > 0 for r in rows)
    limit = search.max_iterations_factor * max(schedule.total, 1)
    while (eps := schedule.epsilon(counted)) is not None:
        i = len(rows)
        if stop_after is not None and i >= stop_after:
            break
        if i >= limit:
            log.warning("stopping after %d sampled nets (dpnas.search.max_iterations_factor): only %d counted",
                        i, counted)
            break
        rng = np.random.default_rng([seed, i])
        layers = space.layers(agent.sample(eps, rng))
        net = to_string(layers)
        if net in first_row:
            row = {**rows[first_row[net]], "epsilon": eps}
            kind = "duplicate"
        elif not space.feasible(layers):
            row, kind = score_row(INFEASIBLE, eps, net), "infeasible"
        else:
            score = score_prior(layers, task, classifier, arch_seed(seed, i), device=device)
            row, kind = score_row(score, eps, net), "scored"
        first_row.setdefault(net, i)
        rows.append(row)
        agent.replay([r["net"] for r in rows], [r["reward"] for r in rows], search.replay_number, rng)
        counted += row["reward"] > 0
        frame = pd.DataFrame(rows, columns=COLUMNS)
        write_csv(state_dir / BUFFER, frame)
        write_csv(state_dir / QVALUES, agent.table.to_frame())
        log.info("net %d (eps %.2f, %s, counted %d/%d): %s reward %.4f", i, eps, kind, counted, schedule.total, net,
                 row["reward"])
    return pd.DataFrame(rows, columns=COLUMNS), agent.table
