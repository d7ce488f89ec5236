"""Torch-free: which nets of a search the hypotheses jobs study (``select``) and the seed of a searched prior's
random weights (``arch_seed``), so the ``dpnas_select`` job (a table in, a table out) never imports torch.

``select``: rows with reward 0 dropped, sorted by reward (ascending, stable), duplicate nets dropped (keeping the
last), then ``per_group`` lowest, middle (from ``ceil(n/2) - per_group//2``) and top nets; 6 each in the original.
"""

from __future__ import annotations

import math

import pandas as pd

from ...errors import UserError

GROUPS = ("low", "middle", "top")


def arch_seed(seed: int, row: int) -> int:
    """Seed of the random weights of the prior first scored in buffer row ``row``."""
    return seed * 1_000_003 + row


def select(buffer: pd.DataFrame, per_group: int = 6, seed: int = 0) -> pd.DataFrame:
    """The chosen nets: columns rank, group, net, reward, row (first buffer row of the net), prior_seed."""
    first_row = {}
    for i, net in enumerate(buffer["net"]):
        first_row.setdefault(net, i)
    ranked = buffer[buffer["reward"] > 0].sort_values("reward", kind="mergesort")
    ranked = ranked.drop_duplicates("net", keep="last").reset_index(drop=True)
    n = len(ranked)
    if n < 3 * per_group:
        raise UserError(f"dpnas select needs {3 * per_group} distinct nets with reward > 0 but the search found "
                        f"{n}: lengthen dpnas.search.epsilon_schedule or lower dpnas.hypotheses.per_group")
    middle = min(max(math.ceil(n / 2) - per_group // 2, per_group), n - 2 * per_group)
    picks = [(g, i) for g, start in zip(GROUPS, (0, middle, n - per_group)) for i in range(start, start + per_group)]
    out = pd.DataFrame([{"rank": k, "group": g, "net": ranked.at[i, "net"], "reward": ranked.at[i, "reward"]}
                        for k, (g, i) in enumerate(picks)])
    out["row"] = [first_row[net] for net in out["net"]]
    out["prior_seed"] = [arch_seed(seed, r) for r in out["row"]]
    return out
