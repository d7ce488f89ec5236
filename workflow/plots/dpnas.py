"""DP-NAS figures, from the result tables only: rolling reward over a search; hypotheses 2 and 3."""

from __future__ import annotations

import pandas as pd

from .common import new_figure

KIND_STYLE = {"random": ("o", "C0", "searched prior"), "resampled": ("x", "C1", "resampled weights"),
              "full": ("^", "C2", "fully trained")}


def rolling_reward_figure(buffer: pd.DataFrame, window: int = 20, title: str = ""):
    """Rewards of the counted nets (reward > 0) in search order, their rolling mean, epsilon phases shaded."""
    counted = buffer[buffer["reward"] > 0].reset_index(drop=True)
    fig, ax = new_figure(6.5, 3.6)
    eps = counted["epsilon"].to_numpy()
    start = 0
    for i in range(1, len(eps) + 1):
        if i == len(eps) or eps[i] != eps[start]:
            ax.axvspan(start - 0.5, i - 0.5, color=str(0.97 - 0.25 * (1 - eps[start])), zorder=0)
            ax.text((start + i - 1) / 2, 1.01, f"ε={eps[start]:g}", ha="center", va="bottom", fontsize=7,
                    transform=ax.get_xaxis_transform())
            start = i
    sc = ax.scatter(counted.index, counted["reward"], c=counted["epsilon"], cmap="viridis", s=8, vmin=0, vmax=1,
                    zorder=2)
    rolling = counted["reward"].rolling(window, min_periods=1).mean()
    ax.plot(counted.index, rolling, color="C3", lw=1.5, label=f"rolling mean ({window})", zorder=3)
    fig.colorbar(sc, ax=ax, label="epsilon")
    ax.set_xlabel("counted architecture")
    ax.set_ylabel("reward (mean of last 5 val. acc.)")
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title(title, fontsize=9, pad=14)
    return fig


def hypotheses_figure(table: pd.DataFrame, title: str = ""):
    """Test accuracy of every chosen net (x, ordered low -> middle -> top) per kind: searched random weights,
    resampled random weights (one marker per seed; hypothesis 2) and full training (hypothesis 3)."""
    nets = list(dict.fromkeys(table["net"]))
    groups = table.drop_duplicates("net").set_index("net")["group"]
    x = {net: i for i, net in enumerate(nets)}
    fig, ax = new_figure(6.5, 3.6)
    for kind, (marker, color, label) in KIND_STYLE.items():
        rows = table[table["kind"] == kind]
        if len(rows):
            ax.scatter([x[n] for n in rows["net"]], rows["accuracy"], marker=marker, color=color, label=label, s=22)
    for g, shade in zip(("low", "middle", "top"), ("0.95", "0.9", "0.85")):
        idx = [x[n] for n in nets if groups[n] == g]
        if idx:
            ax.axvspan(min(idx) - 0.5, max(idx) + 0.5, color=shade, zorder=0)
            ax.text((min(idx) + max(idx)) / 2, 1.01, g, ha="center", va="bottom", fontsize=8,
                    transform=ax.get_xaxis_transform())
    ax.set_xticks(range(len(nets)))
    ax.set_xticklabels([str(i) for i in range(len(nets))], fontsize=7)
    ax.set_xlabel("chosen net (by search reward)")
    ax.set_ylabel("test accuracy (%)")
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title, fontsize=9, pad=14)
    return fig
