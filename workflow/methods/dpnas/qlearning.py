"""The tabular Q-learning agent (MetaQNN as used by DP-NAS).

- Q-values are keyed by ``(state, next_state)``; the first visit of a state initialises every one of its actions
  to ``q_init`` (0.15 in the original, equal to its early-stopping threshold).
- Sampling is epsilon-greedy per step: with probability epsilon a uniformly random listed action, otherwise one
  drawn uniformly among the actions of maximal Q.
- Update of one trajectory ``s_0 (start) ... s_T (terminal)`` with reward ``r``, backwards, rate ``alpha``,
  discount ``gamma``::

      Q(s_{T-1}, s_T) <- Q(s_{T-1}, s_T) + alpha * (r - Q(s_{T-1}, s_T))
      Q(s_i, s_{i+1}) <- Q(s_i, s_{i+1}) + alpha * (gamma * max_a Q(s_{i+1}, a) - Q(s_i, s_{i+1})),  i = T-2 ... 0

- Experience replay: after each architecture, the newest net and ``replay_number - 1`` nets drawn uniformly from
  all buffer rows (duplicates weigh more) are updated in that order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .netstring import parse
from .space import STATE_FIELDS, SearchSpace, State


class QTable:
    def __init__(self, space: SearchSpace, init: float = 0.15):
        self.space, self.init = space, init
        self.values: dict[tuple[State, State], float] = {}
        self.visited: set[State] = set()

    def visit(self, state: State) -> list[State]:
        """The actions of ``state``, initialising their Q-values on the first visit."""
        actions = self.space.actions(state)
        if state not in self.visited:
            self.visited.add(state)
            for a in actions:
                self.values.setdefault((state, a), self.init)
        return actions

    def q(self, state: State, action: State) -> float:
        self.visit(state)
        return self.values[(state, action)]

    def max_q(self, state: State) -> float:
        actions = self.visit(state)
        return max(self.values[(state, a)] for a in actions) if actions else 0.0

    # -- CSV form: start_<field>, end_<field> for the 9 state fields, utility ------------------------------------
    def to_frame(self) -> pd.DataFrame:
        rows = [[*s, *a, v] for (s, a), v in self.values.items()]
        columns = [f"start_{f}" for f in STATE_FIELDS] + [f"end_{f}" for f in STATE_FIELDS] + ["utility"]
        return pd.DataFrame(rows, columns=columns)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, space: SearchSpace, init: float = 0.15) -> "QTable":
        table = cls(space, init)
        n = len(STATE_FIELDS)
        for row in frame.itertuples(index=False):
            values = list(row)
            s = State(values[0], *map(int, values[1:n]))
            a = State(values[n], *map(int, values[n + 1:2 * n]))
            table.values[(s, a)] = float(values[2 * n])
            table.visited.add(s)
        return table


class Agent:
    def __init__(self, space: SearchSpace, table: QTable | None = None, *, learning_rate: float = 0.1,
                 discount: float = 1.0, init: float = 0.15):
        self.space = space
        self.table = table or QTable(space, init)
        self.alpha, self.gamma = learning_rate, discount

    def sample(self, epsilon: float, rng: np.random.Generator) -> list[State]:
        """One trajectory from the start state to a terminal state, epsilon-greedy at every step."""
        state = self.space.start()
        trajectory = [state]
        while not state.terminate:
            actions = self.table.visit(state)
            if rng.random() < epsilon:
                state = actions[rng.integers(len(actions))]
            else:
                qs = [self.table.values[(state, a)] for a in actions]
                best = [a for a, v in zip(actions, qs) if v == max(qs)]
                state = best[rng.integers(len(best))]
            trajectory.append(state)
        return trajectory

    def update(self, trajectory: list[State], reward: float) -> None:
        """The backward update of the module docstring."""
        values = self.table.values
        last = (trajectory[-2], trajectory[-1])
        self.table.visit(trajectory[-2])
        values[last] += self.alpha * (reward - values[last])
        for i in range(len(trajectory) - 3, -1, -1):
            s, nxt = trajectory[i], trajectory[i + 1]
            self.table.visit(s)
            values[(s, nxt)] += self.alpha * (self.gamma * self.table.max_q(nxt) - values[(s, nxt)])

    def replay(self, nets: list[str], rewards: list[float], replay_number: int, rng: np.random.Generator) -> None:
        """Update the newest row, then ``replay_number - 1`` rows drawn uniformly from the whole buffer."""
        picks = [len(nets) - 1] + list(rng.integers(len(nets), size=max(replay_number - 1, 0)))
        for i in picks:
            self.update(self.space.trajectory(parse(nets[i])), rewards[i])


class EpsilonSchedule:
    """``[[epsilon, count], ...]``: epsilon for the ``counted``-th counted architecture, None when done."""

    def __init__(self, phases):
        self.phases = [(float(e), int(n)) for e, n in phases]

    @property
    def total(self) -> int:
        return sum(n for _, n in self.phases)

    def epsilon(self, counted: int) -> float | None:
        for eps, n in self.phases:
            if counted < n:
                return eps
            counted -= n
        return None
