"""DP-NAS scoring throughput: architectures scored per minute with the embedding cache (encoder run once per
architecture) against recomputing the encoder for every batch of every epoch (the naive deep-prior loop).

Target (issue 7): the cache gives at least 5x. Same nets, same classifier schedule as the default config
(digits, 15 epochs, batch 128). Run: .venv/bin/python -m benchmarks.bench_dpnas [--paper-epochs]
"""

import sys
import time

import numpy as np
import pandas as pd

from benchmarks.common import write
from workflow.data import build_suite, fetch_dataset
from workflow.methods.dpnas.qlearning import Agent
from workflow.methods.dpnas.scoring import ScoreConfig, score_prior
from workflow.methods.dpnas.space import SearchSpace
from workflow.methods.dpnas.task import suite_spec
from workflow.training import seed_everything

N_NETS = 8


def nets(space):
    """The first N_NETS feasible nets of a random (epsilon = 1) search."""
    agent, out, i = Agent(space), [], 0
    while len(out) < N_NETS:
        layers = space.layers(agent.sample(1.0, np.random.default_rng([0, i])))
        if space.feasible(layers):
            out.append(layers)
        i += 1
    return out


def main():
    epochs = 70 if "--paper-epochs" in sys.argv else 15
    seed_everything(0)
    task = build_suite(suite_spec({"dataset": "digits", "val_fraction": 0.1}, 10), fetch_dataset("digits", "x"))[0]
    space = SearchSpace(8, 1, 10, conv_sizes=[1, 3, 5], conv_features=[8, 16, 32, 64], pool_sizes=[2, 3],
                        pool_strides=[2, 3], min_conv=2, max_conv=5, max_image_size=4, max_num_fc_input=1024)
    cfg = ScoreConfig(epochs=epochs, batch_size=128, early_stopping_epoch=epochs + 1)
    candidates = nets(space)
    rows = []
    for label, cache in (("recompute encoder every epoch", False), ("embedding cache", True)):
        start = time.perf_counter()
        rewards = [score_prior(layers, task, cfg, seed=i, cache=cache).reward for i, layers in enumerate(candidates)]
        seconds = time.perf_counter() - start
        rows.append({"scoring": label, "architectures_per_min": 60 * len(candidates) / seconds,
                     "seconds": seconds, "nets": len(candidates), "epochs": epochs,
                     "mean_reward": float(np.mean(rewards))})
    frame = pd.DataFrame(rows)
    speedup = frame["architectures_per_min"][1] / frame["architectures_per_min"][0]
    frame["speedup"] = frame["architectures_per_min"] / frame["architectures_per_min"][0]
    write("dpnas_cache", frame, "architectures_per_min", "scoring",
          f"DP-NAS scoring, digits, {len(candidates)} nets x {epochs} epochs: cache {speedup:.1f}x")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
