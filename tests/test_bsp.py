"""Binary Superposition (workflow/methods/bsp): the context layers compute W (c_k * x); contexts are +-1, drawn from
the seed and the task alone, different per task; one trunk weight set whatever the number of tasks; BatchNorm
without running statistics; task t's training leaves older heads unchanged; the task sequence fills R's lower
triangle; the script, in its run context, reads only the keys its rule declares; the paths and job params are pure
(torch-free) functions of the config; the claim's verdicts on hand-made summaries; the default config's plan runs
bsp_train."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.conftest import REPO, make_tasks, snakemake
from workflow.claims import all_claims, evaluate_claims
from workflow.stage import Job, Named, StageParams, execute, files
from workflow.config import merged_config
from workflow.data import fetch_dataset, save_arrays
from workflow.errors import UserError
from workflow.io import torch_load
from workflow.methods.bsp import paths
from workflow.methods.bsp.network import (BSPNet, SuperposedConv2d, SuperposedLinear, build_network, context_layers,
                                          starting_trunk, superpose)
from workflow.methods.sidetune.artifacts import save_base
from workflow.methods.sidetune.lifelong import module_state, run_sequence
from workflow.models import build_backbone

TRAIN = {"epochs": 2, "batch_size": 16, "optimizer": "adam", "lr": 0.003, "grad_clip": 1.0}


def trunk(width=0.5):
    torch.manual_seed(0)
    return build_backbone("small_cnn", (1, 8, 8), width)


# --- the layers ------------------------------------------------------------------------------------------------

def test_linear_layer_computes_W_of_c_times_x():
    torch.manual_seed(0)
    layer = SuperposedLinear.of(nn.Linear(6, 4), n_tasks=3)
    layer.contexts.copy_(torch.randint(0, 2, (3, 6)) * 2.0 - 1)
    x = torch.randn(5, 6)
    for k in range(3):
        layer.task = k
        c = layer.contexts[k]
        assert torch.allclose(layer(x), F.linear(c * x, layer.weight, layer.bias), atol=1e-6)


def test_conv_layer_computes_W_of_c_times_each_receptive_field():
    """conv(x, W * c_k) equals W applied to every receptive field (unfolded x, in_channels x kh x kw units) times
    c_k."""
    torch.manual_seed(0)
    conv = nn.Conv2d(3, 4, 3, padding=1, stride=2)
    layer = SuperposedConv2d.of(conv, n_tasks=2)
    assert layer.contexts.shape == (2, 3, 3, 3)
    layer.contexts.copy_(torch.randint(0, 2, (2, 3, 3, 3)) * 2.0 - 1)
    x = torch.randn(2, 3, 7, 7)
    for k in range(2):
        layer.task = k
        cols = F.unfold(x, 3, padding=1, stride=2)                       # (N, 3*3*3, L)
        cols = layer.contexts[k].reshape(-1, 1) * cols                   # c_k * x, per receptive field
        want = layer.weight.reshape(4, -1) @ cols + layer.bias.view(1, 4, 1)
        assert torch.allclose(layer(x), want.reshape(2, 4, 4, 4), atol=1e-5)
    layer.task = 0
    assert torch.allclose(SuperposedConv2d.of(conv, 1)(x), conv(x), atol=1e-6), "an all-ones context is the conv"


def test_contexts_are_signs_from_the_seed_and_differ_between_tasks():
    a, b = superpose(trunk(), 4, context_seed=7), superpose(trunk(), 4, context_seed=7)
    fewer, other = superpose(trunk(), 2, context_seed=7), superpose(trunk(), 4, context_seed=8)
    layers = context_layers(a)
    assert len(layers) == 3  # small_cnn: three convs
    for la, lb, lf, lo in zip(layers, context_layers(b), context_layers(fewer), context_layers(other)):
        assert set(la.contexts.unique().tolist()) == {-1.0, 1.0}
        assert la.contexts.shape == (4, *la.weight.shape[1:])                 # in_channels x kh x kw per task
        assert torch.equal(la.contexts, lb.contexts)                          # reproducible from the seed
        assert torch.equal(la.contexts[:2], lf.contexts)                      # task k's: (seed, k) alone
        assert not torch.equal(la.contexts, lo.contexts)                      # another seed, other contexts
        flat = la.contexts.flatten(1)
        for i in range(4):
            for j in range(i):
                assert not torch.equal(flat[i], flat[j])
                assert abs(float(flat[i] @ flat[j])) / flat.shape[1] < 0.5   # nearly orthogonal


def test_one_trunk_weight_set_and_no_running_statistics():
    base = trunk()
    nets = {n: BSPNet(base, [2] * n, 8, (1, 8, 8)) for n in (2, 5)}
    count = {n: sum(p.numel() for p in net.trunk.parameters()) for n, net in nets.items()}
    heads = {n: sum(p.numel() for p in net.heads.parameters()) for n, net in nets.items()}
    total = {n: sum(p.numel() for p in net.parameters()) for n, net in nets.items()}
    assert count[2] == count[5] == sum(p.numel() for p in base.parameters())
    assert total[5] - total[2] == heads[5] - heads[2] == 3 * (base.out_features * 2 + 2)
    bns = [m for m in nets[2].trunk.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    assert bns and all(not m.track_running_stats and m.running_mean is None for m in bns)
    x = torch.randn(16, 1, 8, 8)
    net = nets[2].eval()
    out_eval = net(x, 1)
    assert torch.allclose(out_eval, net.train()(x, 1), atol=1e-6), "batch statistics in training and evaluation"
    assert not torch.allclose(net(x, 0), net(x, 1)), "tasks see the trunk through different contexts"


def test_the_trunk_starts_from_the_base_or_from_scratch():
    base = trunk()
    state = {"model": "small_cnn", "in_shape": [1, 8, 8], "width": 0.5}
    assert starting_trunk(base, state, "base") is base
    fresh = starting_trunk(base, state, "scratch")
    assert [p.shape for p in fresh.parameters()] == [p.shape for p in base.parameters()]
    assert not torch.equal(next(fresh.parameters()), next(base.parameters()))
    with pytest.raises(UserError, match="bsp.init"):
        starting_trunk(base, state, "imagenet")


# --- the task sequence -----------------------------------------------------------------------------------------

def test_sequence_fills_R_trains_the_trunk_and_leaves_older_heads_alone(tmp_path):
    tasks = make_tasks(n_tasks=3, classes_per_task=2, per_class=30)
    state = {"model": "small_cnn", "in_shape": [1, 8, 8], "width": 0.5}
    net = build_network(trunk(), state, init="base", context_seed=0, num_classes=[t.num_classes for t in tasks],
                        head_groups=8, image_shape=tasks[0].train.x.shape[1:])
    snaps = {}
    record = lambda t, n, r: snaps.__setitem__(t, (module_state(n.heads[0]), module_state(n.trunk)))  # noqa: E731
    resume = tmp_path / "resume.pt"
    net, r, info = run_sequence("bsp", tasks, backbone=None, side_init=None,
                                params={"train": TRAIN, "head_groups": 8}, seed=0, network=net, after_task=record,
                                resume_path=resume)
    assert r.shape == (3, 3)
    assert np.isfinite(r[np.tril_indices(3)]).all() and np.isnan(r[np.triu_indices(3, 1)]).all()
    assert ((r[np.tril_indices(3)] >= 0) & (r[np.tril_indices(3)] <= 1)).all()
    assert r[0, 0] > 0.6, r  # learns task 0 (chance 0.5)
    for t in (1, 2):
        assert all(torch.equal(snaps[0][0][k], snaps[t][0][k]) for k in snaps[0][0]), f"head 0 moved in task {t}"
        assert any(not torch.equal(snaps[t - 1][1][k], snaps[t][1][k]) for k in snaps[t][1]), "trunk did not train"
    assert len(info["seconds_per_task"]) == 3 and {row["task"] for row in info["history"]} == {0, 1, 2}
    saved = torch.load(resume, weights_only=False)
    other = build_network(trunk(), state, init="base", context_seed=5, num_classes=[2, 2, 2], head_groups=8,
                          image_shape=(1, 8, 8))
    other.load_state_dict(saved["model"])  # the contexts travel with the state dict
    assert all(torch.equal(a.contexts, b.contexts) for a, b in zip(context_layers(net.trunk),
                                                                  context_layers(other.trunk)))


def test_the_script_reads_only_its_declared_keys(tmp_path):
    """scripts/bsp_train.py in its run context (workflow.stage.execute, as a job runs it), with params exactly the
    keys the rule declares (StageParams: reading any other stops the job), writes the R-matrix contract."""
    data = save_arrays(tmp_path / "data", fetch_dataset("synthetic", tmp_path / "raw",
                                                        {"classes": 4, "per_class": 20, "seed": 0}))
    suite = {"dataset": "synthetic", "grouping": "classes", "tasks": 2, "classes_per_task": 2,
             "class_order_seed": 0, "val_fraction": 0.2}
    save_base(tmp_path / "base.pt", trunk(), model="small_cnn", width=0.5, in_shape=(1, 8, 8), source={})
    config = {"sidetune": {"train": {**TRAIN, "epochs": 1}, "head_groups": 8, "merge": "alpha"},
              "bsp": {"init": "scratch", "context_seed": 3}}
    out = tmp_path / "out"
    job = Job(input=files(data=data / "manifest.json", base=tmp_path / "base.pt"),
              output=files(accuracy=out / "accuracy.csv", summary=out / "summary.json", model=out / "model.pt",
                           history=out / "history.csv"),
              params=Named({"suite": suite, "method": StageParams(paths.job_params(config)),
                            "compute": {"device": "cpu", "threads": 1}}),
              wildcards=Named({"suite": "synthetic", "seed": "1"}))
    execute(runpy.run_path(str(REPO / "scripts/bsp_train.py"), run_name="not_main")["main"], job)
    summary = json.loads((tmp_path / "out/summary.json").read_text())
    assert summary["method"] == "bsp" and summary["init"] == "scratch" and summary["context_layers"] == 3
    assert summary["num_tasks"] == 2 and 0 <= summary["forgetting"] <= 1
    assert len((tmp_path / "out/accuracy.csv").read_text().splitlines()) == 1 + 3  # R's lower triangle
    model = torch_load(tmp_path / "out/model.pt")
    assert type(model["params"]) is dict and "trunk.features.0.contexts" in model["state_dict"]
    assert (tmp_path / "out/history.csv").exists() and not (tmp_path / "out/.resume.pt").exists()


# --- paths, params, claim, plan --------------------------------------------------------------------------------

def test_paths_and_claims_import_no_torch():
    code = ("import sys\nimport workflow.methods.bsp, workflow.methods.bsp.paths, workflow.methods.bsp.claims\n"
            "assert 'torch' not in sys.modules, 'torch imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)


def test_paths_and_job_params_are_pure_functions_of_the_config():
    config = merged_config(["--config", "seeds=[0,2]"], root=REPO)
    assert config["bsp"] == {"init": "base", "context_seed": 0}  # the schema file's default fills the section
    assert paths.targets(config) == ["results/bsp/split_digits_side/seed0/summary.json",
                                     "results/bsp/split_digits_side/seed2/summary.json"]
    assert paths.inputs(config, "split_digits_side", 2) == {
        "data": "resources/data/digits/manifest.json",
        "base": "results/sidetune/split_digits_side/seed2/shared/base.pt"}
    params = paths.job_params(config)
    assert params == {"train": config["sidetune"]["train"], "head_groups": config["sidetune"]["head_groups"],
                      "bsp": config["bsp"]}
    over = merged_config(["--config", 'bsp={"init": "scratch"}', 'sidetune={"suite": "split_digits"}'], root=REPO)
    assert over["bsp"] == {"init": "scratch", "context_seed": 0}
    assert paths.targets(over) == ["results/bsp/split_digits/seed0/summary.json"]


def write_summary(root, method, seed, forgetting):
    path = root / f"results/{method}/suite/seed{seed}/summary.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"forgetting": forgetting, "average_accuracy": 0.9}))
    return path.relative_to(root)


@pytest.mark.parametrize("bsp, finetune, expected", [
    ([0.01, 0.02, 0.0], [0.10, 0.20, 0.15], "holds"),
    ([0.20, 0.15, 0.30], [0.10, 0.05, 0.12], "fails"),
    ([0.05, 0.05, 0.05], [0.05, 0.05, 0.05], "fails"),           # strict: equal forgetting is not less
    ([0.01, 0.02], [0.10, 0.20], "too few seeds"),
])
def test_the_claim_on_hand_made_summaries(tmp_path, monkeypatch, bsp, finetune, expected):
    monkeypatch.chdir(tmp_path)
    files = [write_summary(tmp_path, "bsp", s, f) for s, f in enumerate(bsp)]
    files += [write_summary(tmp_path, "finetune", s, f) for s, f in enumerate(finetune)]
    table = evaluate_claims(files, ["bsp", "finetune"])
    row = table[table["method"] == "bsp"].iloc[0]
    assert row["claim"] == "BSP forgets less than plain fine-tuning" and row["verdict"] == expected
    assert row["quantity_a"] == "finetune forgetting" and row["quantity_b"] == "bsp forgetting"
    assert "iCIFAR" in row["paper_setting"]
    assert [c.needs for c in all_claims() if c.method == "bsp"] == [("bsp", "finetune")]
    assert evaluate_claims(files, ["bsp"]).query("method == 'bsp'").empty  # finetune not enabled: no row


def test_the_default_plan_runs_bsp_train(workdir):
    plan = snakemake(workdir, "-n", "--cores", "1", "--quiet", "rules").stdout
    assert "bsp_train" in plan and "sidetune_pretrain" in plan, plan
    only = snakemake(workdir, "-n", "--cores", "1", "--quiet", "rules", "--config", "methods=[bsp]").stdout
    assert "bsp_train" in only and "sidetune_pretrain" in only and "sidetune_train" not in only, only
