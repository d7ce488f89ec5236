"""Export a prior's embeddings as one ``.npy`` file per sample: ``<split>/<label:06d>/<index:06d>.npy``.

Each file is a 1-D float32 vector of length C*H*W; ``index`` is the sample's position in its split. The train
split is embedded with BatchNorm in train mode, val and test in eval mode (as during the search), so the files
are exactly what the searched classifier saw. Load a split with
``torchvision.datasets.DatasetFolder(root / split, loader=lambda p: torch.from_numpy(np.load(p)),
extensions=(".npy",))``.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from .encoder import build_encoder
from .scoring import embed_task

SPLITS = ("train", "val", "test")


def export_embeddings(net: str, task, seed: int, out_dir, *, bn_eps: float = 1e-4, batch_size: int = 128,
                      device="cpu") -> dict:
    """Write the export tree into ``out_dir`` (built in a temporary folder, then renamed into place)."""
    out_dir = Path(out_dir)
    tmp = out_dir.with_name(f".{out_dir.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    encoder = build_encoder(net, task.train.x.shape[1], task.train.x.shape[-1], bn_eps, seed=seed).to(device)
    data = embed_task(encoder, task, batch_size, device)
    counts = {}
    for split in SPLITS:
        z, y = data[split].x.numpy().astype(np.float32), data[split].y.numpy()
        for label in np.unique(y):
            (tmp / split / f"{int(label):06d}").mkdir(parents=True, exist_ok=True)
        for i in range(len(y)):
            np.save(tmp / split / f"{int(y[i]):06d}" / f"{i:06d}.npy", z[i])
        counts[split] = int(len(y))
    info = {"net": net, "seed": seed, "shape": list(encoder.out_shape), "length": encoder.out_features,
            "counts": counts, "layout": "<split>/<label:06d>/<index:06d>.npy"}
    (tmp / "embedding.json").write_text(json.dumps(info, indent=2) + "\n")
    shutil.rmtree(out_dir, ignore_errors=True)
    os.replace(tmp, out_dir)
    return info
