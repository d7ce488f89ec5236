"""Figure style and saving (PNG for the report, PDF for papers), written atomically."""

from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Fixed metadata so the same table gives the same bytes.
PDF_META = {"CreationDate": None, "ModDate": None, "Producer": "cl-lab"}
PNG_META = {"Software": "cl-lab"}


def new_figure(width: float = 6.0, height: float = 3.6, ncols: int = 1, **subplot_kw):
    """A figure in the house style; ``ncols > 1`` gives a row of axes."""
    plt.rcParams.update({"font.size": 9, "axes.spines.top": False, "axes.spines.right": False})
    return plt.subplots(1, ncols, figsize=(width, height), constrained_layout=True, **subplot_kw)


def save_figure(fig, png_path) -> list[Path]:
    """Save ``fig`` as ``png_path`` and the same name with ``.pdf``; returns both paths."""
    png = Path(png_path)
    png.parent.mkdir(parents=True, exist_ok=True)
    out = []
    for path, kw in ((png, {"dpi": 150, "metadata": PNG_META}), (png.with_suffix(".pdf"), {"metadata": PDF_META})):
        tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
        fig.savefig(tmp, **kw)
        os.replace(tmp, path)
        out.append(path)
    plt.close(fig)
    return out
