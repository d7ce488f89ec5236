"""Torch-free: the replay buffer's reader, the hypotheses table's columns and the summary of a search, so the
``dpnas_collect`` job (tables in, tables out) never imports torch."""

from __future__ import annotations

import pandas as pd

HYPOTHESES_COLUMNS = ["net", "group", "kind", "seed", "accuracy"]


def read_buffer(path) -> pd.DataFrame:
    return pd.read_csv(path, float_precision="round_trip", keep_default_na=False)


def summarize(buffer: pd.DataFrame, table: pd.DataFrame) -> dict:
    """Scalars for metrics/dpnas.json: search phases and hypothesis means per group and kind."""
    rewarded = buffer[buffer["reward"] > 0]
    phases = rewarded.groupby("epsilon", sort=False)["reward"].mean()
    eps_one = float(phases.get(1.0, float("nan")))
    low_eps = float(min(phases.index))
    summary = {
        "architectures_sampled": int(len(buffer)),
        "architectures_counted": int(len(rewarded)),
        "distinct_nets": int(buffer["net"].nunique()),
        "best_reward": float(buffer["reward"].max()),
        "best_net": str(buffer.loc[buffer["reward"].idxmax(), "net"]),
        "mean_reward_by_epsilon": {f"{e:g}": float(v) for e, v in phases.items()},
        "mean_reward_eps1": eps_one,
        "lowest_epsilon": low_eps,
        "mean_reward_lowest_eps": float(phases[low_eps]),
        "low_eps_minus_eps1": float(phases[low_eps]) - eps_one,
    }
    means = table.groupby(["group", "kind"])["accuracy"].agg(["mean", "std"])
    summary["accuracy"] = {f"{g}.{k}": {"mean": float(m), "std": float(s) if s == s else 0.0}
                           for (g, k), (m, s) in means.iterrows()}
    return summary
