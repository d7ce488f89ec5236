"""Throughput of the shared training loop against a bare PyTorch loop on the same model, data and batches.

Target (issue 2): the shared loop reaches at least 0.9 of the bare loop's examples per second.
Run: .venv/bin/python -m benchmarks.bench_training_loop
"""

import pandas as pd
import torch
import torch.nn.functional as F

from benchmarks.common import best_of, write
from workflow.data import build_suite, fetch_dataset
from workflow.models import build_classifier
from workflow.training import TrainConfig, Trainer, seed_everything
from workflow.training.loop import epoch_permutation

EPOCHS, BATCH = 3, 64


def data():
    spec = {"dataset": "digits", "tasks": 1, "class_groups": [list(range(10))], "class_order_seed": 0,
            "val_fraction": 0.0}
    return build_suite(spec, fetch_dataset("digits", "unused"))[0].train


def model():
    seed_everything(0)
    return build_classifier("small_cnn", (1, 8, 8), 10)


def shared(train):
    net = model()
    Trainer(net, TrainConfig(epochs=EPOCHS, batch_size=BATCH, lr=0.05), desc=None).fit(train)


def bare(train):
    net = model()
    opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    net.train()
    for epoch in range(EPOCHS):
        perm = epoch_permutation(len(train), 0, epoch)
        for i in range(0, len(train), BATCH):
            idx = perm[i:i + BATCH]
            x, y = train.x[idx], train.y[idx]
            loss = F.cross_entropy(net(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()


def main():
    train = data()
    n = EPOCHS * len(train)
    rows = [{"loop": name, "examples_per_s": n / best_of(lambda: fn(train))} for name, fn in
            (("bare PyTorch", bare), ("shared Trainer", shared))]
    frame = pd.DataFrame(rows)
    ratio = frame["examples_per_s"][1] / frame["examples_per_s"][0]
    frame["ratio_to_bare"] = frame["examples_per_s"] / frame["examples_per_s"][0]
    write("training_loop", frame, "examples_per_s", "loop",
          f"small_cnn on digits, {EPOCHS} epochs, batch {BATCH}: shared/bare = {ratio:.2f}")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
