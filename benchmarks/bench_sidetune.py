"""Side-tuning per-task training time with the frozen base's features cached (computed once per split) against
recomputing the base forward pass in every batch of every epoch.

Two settings: the default config's digits layout (small_cnn base, 8x8 images), and a CIFAR-shaped one
(ResNet-44 base, 3x32x32 inputs, random data: time does not depend on the values). The cache's one-off cost
(base features of every split) is reported separately. R is identical either way (tests check the logits).
Run: .venv/bin/python -m benchmarks.bench_sidetune
"""

import time

import pandas as pd
import torch

from benchmarks.common import write
from workflow.data import build_suite, fetch_dataset
from workflow.data.suites import Split, Task
from workflow.methods import sidetune
from workflow.models import build_backbone
from workflow.training import seed_everything

SIDE_CHANNELS = [16, 16, 32]


def digits_setting():
    data = fetch_dataset("digits", "unused")
    spec = {"dataset": "digits", "tasks": 3, "class_groups": [[4, 5], [6, 7], [8, 9]], "class_order_seed": 0,
            "val_fraction": 0.15}
    train = {"epochs": 8, "batch_size": 32, "optimizer": "adam", "lr": 0.001, "grad_clip": 1.0}
    return "digits, small_cnn base", build_suite(spec, data), build_backbone("small_cnn", (1, 8, 8)), train


def cifar_shaped_setting(n_train=512, n_eval=128):
    gen = torch.Generator().manual_seed(0)

    def split(n):
        return Split(torch.randn(n, 3, 32, 32, generator=gen), torch.randint(0, 10, (n,), generator=gen))

    tasks = [Task(t, f"task{t}", list(range(10 * t, 10 * t + 10)), split(n_train), split(n_eval), split(n_eval))
             for t in range(2)]
    train = {"epochs": 2, "batch_size": 128, "optimizer": "adam", "lr": 0.001, "grad_clip": 1.0}
    return "32x32, resnet44 base", tasks, build_backbone("resnet44", (3, 32, 32)), train


def measure(name, tasks, backbone, train):
    seed_everything(0)
    side = sidetune.build_side(tasks[0].train.x.shape[1:], SIDE_CHANNELS, backbone.out_features)
    params = {"train": train, "merge": "alpha", "head_groups": 8, "ewc": {"coef": 0.0}}
    tic = time.perf_counter()
    base = sidetune.FrozenBase(backbone)
    cache = [{k: sidetune.base_features(base, getattr(t, k)) for k in ("train", "val", "test")} for t in tasks]
    cache_seconds = time.perf_counter() - tic
    rows = []
    for mode, c in (("recomputed", None), ("cached", cache)):
        _, _, info = sidetune.run_sequence("sidetune", tasks, backbone=backbone, side_init=side, params=params,
                                           seed=0, cache=c)
        assert info["cached_features"] == (c is not None)
        rows.append({"setting": name, "mode": mode, "seconds_per_task": sum(info["seconds_per_task"]) / len(tasks),
                     "cache_build_seconds_per_task": cache_seconds / len(tasks) if c is not None else 0.0,
                     "epochs_per_task": train["epochs"], "train_examples_per_task": len(tasks[0].train)})
    return rows


def main():
    rows = []
    for setting in (digits_setting, cifar_shaped_setting):
        rows += measure(*setting())
    frame = pd.DataFrame(rows)
    frame["speedup_vs_recomputed"] = [
        frame[(frame.setting == s) & (frame["mode"] == "recomputed")]["seconds_per_task"].iloc[0] / v
        for s, v in zip(frame.setting, frame.seconds_per_task)]
    frame["label"] = frame["setting"].str.split(",").str[1].str.strip() + "\n" + frame["mode"]
    write("sidetune_feature_cache", frame, "seconds_per_task", "label",
          "side-tuning seconds per task: cached base features vs recomputed")
    print(frame.drop(columns="label").to_string(index=False))


if __name__ == "__main__":
    main()
