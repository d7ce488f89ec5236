"""Aggregation of per-seed summaries into one tidy record per method (metrics shared through DVC)."""

from __future__ import annotations

import math
import statistics


def _scalars(summary: dict, prefix: str = "") -> dict[str, float]:
    """Numeric leaves of a (nested) summary as dotted keys; lists and strings are skipped."""
    out = {}
    for key, value in summary.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool):
            continue
        if isinstance(value, (int, float)) and value is not None and math.isfinite(value):
            out[name] = float(value)
        elif isinstance(value, dict):
            out.update(_scalars(value, f"{name}."))
    return out


def aggregate_summaries(summaries: dict[str, dict]) -> dict:
    """``{path: summary}`` -> ``{"runs": n, "mean": {...}, "std": {...}, "per_run": {path: {...}}}``."""
    per_run = {path: _scalars(s) for path, s in summaries.items()}
    keys = sorted({k for values in per_run.values() for k in values})
    mean, std = {}, {}
    for key in keys:
        vals = [v[key] for v in per_run.values() if key in v]
        mean[key] = statistics.fmean(vals)
        std[key] = statistics.stdev(vals) if len(vals) > 1 else 0.0
    return {"runs": len(per_run), "mean": mean, "std": std, "per_run": per_run}
