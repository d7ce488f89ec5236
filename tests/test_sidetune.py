"""Side-tuning (issue 4) and its lifelong baselines: the properties of "Done means".

- the frozen base's state (BatchNorm buffers included) hashes the same before and after the whole sequence;
- task t's side, merge and head (PNN: column and head) are bitwise unchanged after later tasks;
- side-tuning's R[i, j] is constant for i >= j, while finetune's R[last, 0] < R[0, 0] on split digits;
- alphas stay in (0, 1); EWC's penalty is zero at the anchor and grows (quadratically) with distance;
- plus: cached base features give the same logits as recomputing them, resume after a killed job is exact, the
  source pool must be disjoint from the tasks, and the Snakemake sub-DAG runs on config/test.yaml.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import make_tasks
from workflow.data import build_suite, fetch_dataset
from workflow.errors import UserError
from workflow.methods import sidetune
from workflow.methods.sidetune.base import packed_split
from workflow.methods.sidetune.lifelong import module_state

FAST = {"epochs": 2, "batch_size": 16, "optimizer": "adam", "lr": 0.003}


def params(**over):
    p = {"base": {"model": "small_cnn", "width": 0.5, "train": FAST},
         "side": {"channels": [8, 8, 16], "norm_groups": 2, "distil": FAST},
         "train": {"epochs": 2, "batch_size": 16, "optimizer": "adam", "lr": 0.001, "grad_clip": 1.0},
         "merge": "alpha", "head_groups": 8, "cache_features": True, "ewc": {"coef": 100.0}}
    p.update(over)
    return p


def prepare(source_task, p):
    """Pretrained backbone and distilled side (as the pretrain and distil rules make them)."""
    backbone, _, _ = sidetune.pretrain_base(source_task, model="small_cnn", width=0.5, train=p["base"]["train"],
                                            seed=0, device="cpu")
    side = sidetune.build_side(source_task.train.x.shape[1:], p["side"]["channels"], backbone.out_features)
    side, _, _ = sidetune.distil_side(side, sidetune.FrozenBase(backbone), source_task, train=p["side"]["distil"],
                                      seed=0)
    return backbone, side


def cache_of(backbone, tasks):
    base = sidetune.FrozenBase(backbone)
    return [{k: sidetune.base_features(base, getattr(t, k)) for k in ("train", "val", "test")} for t in tasks]


@pytest.fixture(scope="module")
def synthetic():
    """A source pool (task 0 of a generated suite) and three tasks of other classes."""
    suite = make_tasks(n_tasks=4, classes_per_task=2, per_class=40)
    source, tasks = suite[0], suite[1:]
    p = params()
    backbone, side = prepare(source, p)
    return tasks, backbone, side, p


@pytest.fixture(scope="module")
def digits():
    """The default config's layout: base on digits 0-3, tasks [4, 5], [6, 7], [8, 9]."""
    data = fetch_dataset("digits", "unused")
    common = {"dataset": "digits", "grouping": "classes", "class_order_seed": 0, "val_fraction": 0.15}
    source = build_suite({**common, "tasks": 1, "class_groups": [[0, 1, 2, 3]]}, data)[0]
    tasks = build_suite({**common, "tasks": 3, "class_groups": [[4, 5], [6, 7], [8, 9]]}, data)
    p = params(base={"model": "small_cnn", "width": 1.0, "train": {**FAST, "epochs": 5, "batch_size": 32}},
               side={"channels": [16, 16, 32], "norm_groups": 2, "distil": {**FAST, "epochs": 5, "batch_size": 32}},
               train={"epochs": 4, "batch_size": 32, "optimizer": "adam", "lr": 0.003, "grad_clip": 1.0})
    backbone, _, _ = sidetune.pretrain_base(source, model="small_cnn", width=1.0, train=p["base"]["train"], seed=0,
                                            device="cpu")
    side = sidetune.build_side((1, 8, 8), p["side"]["channels"], backbone.out_features)
    side, _, _ = sidetune.distil_side(side, sidetune.FrozenBase(backbone), source, train=p["side"]["distil"], seed=0)
    return tasks, backbone, side, p


@pytest.mark.parametrize("method,merge", [("sidetune", "alpha"), ("sidetune", "mlp"), ("features", "alpha"),
                                          ("pnn", "alpha")])
def test_base_and_finished_tasks_stay_bitwise_unchanged(synthetic, method, merge):
    tasks, backbone, side, p = synthetic
    snapshots = {}

    def snapshot(t, net, r):
        snapshots[t] = {name: module_state(m) for name, m in net.task_modules(t).items()}
        assert not net.base.training  # the Trainer's model.train() never reaches the frozen base
        if t == 0:
            snapshot.base_before = sidetune.state_hash(net.base.net)

    net, r, _ = sidetune.run_sequence(method, tasks, backbone=backbone, side_init=side,
                                      params=params(merge=merge), seed=0, cache=cache_of(backbone, tasks),
                                      after_task=snapshot)
    assert sidetune.state_hash(net.base.net) == sidetune.state_hash(backbone) == snapshot.base_before
    assert any("running_mean" in k for k in net.base.net.state_dict())  # the hash covers BatchNorm buffers
    for t, modules in snapshots.items():
        for name, state in modules.items():
            now = net.task_modules(t)[name].state_dict()
            for key, tensor in state.items():
                assert torch.equal(tensor, now[key]), f"task {t} {name}.{key} changed after later tasks"
    lower = [(i, j) for i in range(len(tasks)) for j in range(i + 1)]
    assert all(r[i, j] == r[j, j] for i, j in lower)


def test_sidetune_keeps_R_while_finetune_forgets(digits):
    tasks, backbone, side, p = digits
    cache = cache_of(backbone, tasks)
    _, r_side, info = sidetune.run_sequence("sidetune", tasks, backbone=backbone, side_init=side, params=p, seed=0,
                                            cache=cache)
    _, r_fine, _ = sidetune.run_sequence("finetune", tasks, backbone=backbone, side_init=side, params=p, seed=0)
    _, r_feat, _ = sidetune.run_sequence("features", tasks, backbone=backbone, side_init=side, params=p, seed=0,
                                         cache=cache)
    last = len(tasks) - 1
    for j in range(len(tasks)):
        assert np.all(r_side[j:, j] == r_side[j, j])  # constant below the diagonal: zero forgetting
    assert r_fine[last, 0] < r_fine[0, 0]  # the shared trainable network forgets
    assert np.mean(r_side[last]) >= np.mean(r_feat[last])
    assert all(0.0 < a < 1.0 for a in info["alphas"])


def test_alpha_starts_at_half_and_stays_in_open_interval():
    merge = sidetune.AlphaMerge(4)
    assert merge.alpha == 0.5
    b, s = torch.ones(2, 4), torch.zeros(2, 4)
    assert torch.allclose(merge(b, s), torch.full((2, 4), 0.5))
    for logit in (-10.0, -1.0, 3.0, 10.0):
        merge.logit.data.fill_(logit)
        assert 0.0 < merge.alpha < 1.0


def test_merge_parameters_get_no_weight_decay(synthetic):
    tasks, backbone, side, _ = synthetic
    net = sidetune.build_network("sidetune", backbone=backbone, side_init=side, params=params(),
                                 num_classes=[2, 2, 2], image_shape=(1, 8, 8))
    groups = net.param_groups(1, weight_decay=0.01)
    assert groups[1]["weight_decay"] == 0.0 and groups[1]["params"] == [net.merges[1].logit]
    owned = {id(p) for g in groups for p in g["params"]}
    for t in (0, 2):  # other tasks' modules and the base are never given to task 1's optimizer
        assert not owned & {id(p) for m in net.task_modules(t).values() for p in m.parameters()}
    assert not owned & {id(p) for p in net.base.parameters()}


def test_ewc_penalty_zero_at_anchor_and_growing_with_distance(synthetic):
    tasks, backbone, side, _ = synthetic
    net = sidetune.build_network("ewc", backbone=backbone, side_init=None, params=params(), num_classes=[2, 2, 2],
                                 image_shape=(1, 8, 8))
    params_ = dict(net.trunk.named_parameters())
    hook = sidetune.EWCPenalty(params_, coef=10.0)
    assert hook.extra_loss(None) is None  # no penalty before the first finished task
    hook.consolidate(net, tasks[0].train, lambda m, x: m(x, 0), batch_size=16)
    assert float(hook.penalty().detach()) == 0.0
    assert sum(float(f.sum()) for f in hook.fisher.values()) > 0
    direction = {n: torch.randn_like(p) for n, p in params_.items()}
    values = []
    for scale in (0.01, 0.02, 0.04, 0.08):
        with torch.no_grad():
            for n, p in params_.items():
                p.copy_(hook.anchor[n] + scale * direction[n])
        values.append(float(hook.penalty().detach()))
    assert all(a < b for a, b in zip(values, values[1:]))
    assert values[1] / values[0] == pytest.approx(4.0, rel=1e-3)  # quadratic in the distance


def test_cached_features_give_the_same_logits(synthetic):
    tasks, backbone, side, _ = synthetic
    torch.manual_seed(0)
    net = sidetune.build_network("sidetune", backbone=backbone, side_init=side, params=params(),
                                 num_classes=[2, 2, 2], image_shape=(1, 8, 8)).eval()
    split = tasks[0].test
    packed = packed_split(cache_of(backbone, tasks)[0]["test"], split)
    assert torch.allclose(net(packed.x, 0), net(split.x, 0), atol=1e-5)
    fine = sidetune.build_network("finetune", backbone=backbone, side_init=side, params=params(),
                                  num_classes=[2, 2, 2], image_shape=(1, 8, 8))
    with pytest.raises(UserError):
        fine(packed.x, 0)  # a trainable base cannot use cached features


def test_same_seed_same_R_and_exact_resume(synthetic, tmp_path):
    tasks, backbone, side, _ = synthetic
    p = params()
    _, r1, _ = sidetune.run_sequence("ewc", tasks, backbone=backbone, side_init=side, params=p, seed=3)
    _, r2, _ = sidetune.run_sequence("ewc", tasks, backbone=backbone, side_init=side, params=p, seed=3)
    assert np.array_equal(r1, r2, equal_nan=True)

    class Killed(Exception):
        pass

    def kill_after_first(t, net, r):
        if t == 0:
            raise Killed

    resume = tmp_path / ".resume.pt"
    with pytest.raises(Killed):
        sidetune.run_sequence("ewc", tasks, backbone=backbone, side_init=side, params=p, seed=3, resume_path=resume,
                              after_task=kill_after_first)
    _, r3, _ = sidetune.run_sequence("ewc", tasks, backbone=backbone, side_init=side, params=p, seed=3,
                                     resume_path=resume)
    assert np.array_equal(r1, r3, equal_nan=True)


def test_source_pool_must_be_disjoint_from_tasks():
    data = fetch_dataset("digits", "unused")
    tasks = {"dataset": "digits", "tasks": 2, "class_groups": [[4, 5], [6, 7]]}
    sidetune.check_disjoint({"dataset": "digits", "tasks": 1, "class_groups": [[0, 1, 2, 3]]}, tasks, data)
    with pytest.raises(UserError, match=r"share classes \[5\]"):
        sidetune.check_disjoint({"dataset": "digits", "tasks": 1, "class_groups": [[0, 1, 5]]}, tasks, data)
    # the same classes on disjoint image shares: no image in common, so allowed
    share = {"parts": 2, "seed": 0}
    sidetune.check_disjoint({"dataset": "digits", "tasks": 1, "class_groups": [[0, 1, 5]],
                             "image_share": {**share, "part": 0}}, {**tasks, "image_share": {**share, "part": 1}}, data)


def test_snakemake_runs_all_six_methods_on_the_test_config(test_config_run):
    """The session's shared run of config/test.yaml (every method; read only)."""
    workdir = test_config_run("2")
    suite = "split_digits_side_tiny"
    for m in sidetune.SIDETUNE_METHODS:
        out = workdir / "results" / m / suite / "seed0"
        frame = pd.read_csv(out / "accuracy.csv")
        assert list(frame.columns) == ["after_task", "task", "accuracy"] and len(frame) == 3  # 2 tasks: 1 + 2
        summary = json.loads((out / "summary.json").read_text())
        assert {"average_accuracy", "backward_transfer", "forgetting"} <= set(summary)
        if m in ("sidetune", "features", "pnn"):  # the methods with a frozen base
            assert summary["base_unchanged"] is True
    side_summary = json.loads((workdir / "results/sidetune" / suite / "seed0/summary.json").read_text())
    assert side_summary["forgetting"] == 0.0 and side_summary["cached_features"] is True
    alphas = pd.read_csv(workdir / "results/sidetune" / suite / "seed0/alphas.csv")
    assert len(alphas) == 2 and ((alphas["alpha"] > 0) & (alphas["alpha"] < 1)).all()
    for fig in ("final_accuracy", "accuracy_matrix", "forgetting"):
        assert (workdir / f"results/figures/sidetune/{suite}_{fig}.png").stat().st_size > 0
        assert (workdir / f"results/figures/sidetune/{suite}_{fig}.pdf").exists()
