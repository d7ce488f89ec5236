"""Cost of CPG's masked layers: one training step of the sharable network (ownership masks, picking mask with its
binarizer and straight-through gradient, gradient masking and re-masking after the step, a second optimiser for
the mask) against the same step of the plain network.

Target (issue 3): a masked step takes at most 1.5x a plain one.
Run: .venv/bin/python -m benchmarks.bench_cpg
"""

import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn

from benchmarks.common import best_of, write
from workflow.methods.cpg.hooks import OwnershipGradientMask
from workflow.methods.cpg.layers import sharable_layers
from workflow.methods.cpg.network import new_network
from workflow.methods.cpg.stages import prepare_task, weight_params
from workflow.models import build_backbone
from workflow.training import seed_everything

STEPS, BATCH, SHAPE = 50, 64, (1, 8, 8)


def batches():
    g = torch.Generator().manual_seed(0)
    return [(torch.randn(BATCH, *SHAPE, generator=g), torch.randint(0, 2, (BATCH,), generator=g))
            for _ in range(STEPS)]


def plain_step_fn():
    seed_everything(0)
    backbone = build_backbone("small_cnn", SHAPE, 1.0)
    net = nn.Sequential(backbone, nn.Linear(backbone.out_features, 2))
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)

    def step(x, y):
        loss = F.cross_entropy(net(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return net, step


def masked_step_fn():
    """Task 2 of a CPG network: half of every layer owned by task 1 (picked through the mask), half by task 2."""
    seed_everything(0)
    net = new_network("small_cnn", SHAPE, 1.0)
    with torch.no_grad():
        for _, m in sharable_layers(net.backbone):
            m.owner.copy_((torch.rand(m.owner.shape) < 0.5).to(m.owner.dtype) + 1)
    net.add_head(2)
    net.add_head(2)
    masks = prepare_task(net, 2, picking=True)
    sgd = torch.optim.SGD(weight_params(net), lr=0.01, momentum=0.9)
    adam = torch.optim.Adam(masks, lr=5e-4)
    hook = OwnershipGradientMask(net, 5e-4)

    def step(x, y):
        loss = F.cross_entropy(net(x), y)
        sgd.zero_grad(set_to_none=True)
        adam.zero_grad(set_to_none=True)
        loss.backward()
        hook.after_backward(None)
        sgd.step()
        adam.step()
        hook.after_step(None)
    return net, step


def time_steps(build, data) -> float:
    net, step = build()
    net.train()
    step(*data[0])  # warm-up (allocations, optimiser state)
    return best_of(lambda: [step(x, y) for x, y in data], repeats=5) / len(data)


def main():
    torch.set_num_threads(1)
    data = batches()
    rows = [{"layer": name, "ms_per_step": 1000 * time_steps(fn, data)} for name, fn in
            (("plain", plain_step_fn), ("masked (CPG)", masked_step_fn))]
    frame = pd.DataFrame(rows)
    frame["ratio_to_plain"] = frame["ms_per_step"] / frame["ms_per_step"][0]
    ratio = frame["ratio_to_plain"][1]
    write("cpg_masked_step", frame, "ms_per_step", "layer",
          f"small_cnn training step, batch {BATCH}, 1 thread: masked/plain = {ratio:.2f} (target <= 1.5)")
    print(frame.to_string(index=False))


if __name__ == "__main__":
    main()
