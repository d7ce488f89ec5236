"""benchmarks/gpu_hours.py, the GPU-hour ESTIMATE of the paper config: its FLOP counter on layers counted by hand,
a row with positive numbers for every method that config/paper.yaml enables, the committed CSV against what the
script computes now, and its job counts against Snakemake's own plan of the paper config."""

from __future__ import annotations

import pandas as pd
import pytest
import torch
from torch import nn

from benchmarks import gpu_hours
from tests.conftest import REPO, copy_workflow, snakemake

SMALL_SAMPLE = 4  # DP-NAS nets sampled here (the committed CSV uses gpu_hours.DPNAS_SAMPLE): its cost varies with it
# columns of a DP-NAS row that do not depend on how many nets were sampled
SAMPLE_FREE = ["method", "image_passes", "jobs", "gpu_jobs"]


@pytest.fixture(scope="module")
def config():
    return gpu_hours.paper_config()


@pytest.fixture(scope="module")
def estimates(config):
    return gpu_hours.estimates(config, dpnas_sample_size=SMALL_SAMPLE)


@pytest.fixture(scope="module")
def computed(estimates):
    return pd.DataFrame([e.row() for e in estimates], columns=gpu_hours.COLUMNS)


@pytest.fixture(scope="module")
def committed():
    return pd.read_csv(gpu_hours.CSV)


# --- the counter -------------------------------------------------------------------------------------------------
#
# Conv2d(3, 8, 3, padding=1) on 3x10x10: output 8x10x10 = 800 elements, each 3 x 3 x 3 = 27 MACs -> 21,600 MACs.
# Conv2d(8, 4, 3, stride=2, padding=1, groups=2) on 8x10x10: output 4x5x5 = 100 elements, each (8/2) x 3 x 3 = 36
#   MACs -> 3,600 MACs.
# Linear(100, 5) on 100 features: 5 outputs x 100 = 500 MACs.
# Total 25,700 MACs = 51,400 FLOPs per image.

def known_net() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Conv2d(8, 4, 3, stride=2, padding=1, groups=2),
                         nn.Flatten(), nn.Linear(100, 5))


def test_layer_macs_by_hand():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert gpu_hours.layer_macs(conv, conv(torch.zeros(2, 3, 10, 10))) == 21_600
    grouped = nn.Conv2d(8, 4, 3, stride=2, padding=1, groups=2)
    assert gpu_hours.layer_macs(grouped, grouped(torch.zeros(2, 8, 10, 10))) == 3_600
    linear = nn.Linear(100, 5)
    assert gpu_hours.layer_macs(linear, linear(torch.zeros(3, 100))) == 500
    assert gpu_hours.layer_macs(nn.ReLU(), torch.zeros(2, 8)) == 0


@pytest.mark.parametrize("device", ["cpu", "meta"])
def test_count_per_image_on_any_device(device):
    with torch.device(device):
        net = known_net()
    c = gpu_hours.count(net, (3, 10, 10), device=device, batch=3)
    assert c.gflops == {"all": pytest.approx(51_400 / 1e9)}
    assert c.params == (3 * 8 * 9 + 8) + (4 * 4 * 9 + 4) + (100 * 5 + 5)
    assert c.calls["all"] == 4  # convolution, relu, convolution, addmm (Flatten is a view: no kernel)


def test_count_splits_parts():
    net = known_net()
    c = gpu_hours.count(net, (3, 10, 10), device="cpu", parts={"convs": [net[0], net[2]], "head": net[4]})
    assert c.gflops["convs"] == pytest.approx(2 * 25_200 / 1e9)
    assert c.gflops["head"] == pytest.approx(2 * 500 / 1e9)
    assert c.part_params["head"] == 505


def test_work_time_terms():
    """One epoch of 1,000 images at batch 100: 10 steps; time = steps x max(compute, launch) + steps x overhead +
    host bytes / bandwidth, every term by hand."""
    a = {"throughput_tflops": 1.0, "launch_us": 10.0, "step_overhead_ms": 1.0, "host_gbps": 1.0,
         "memory_tbps": 1.0, "job_overhead_s": 0.0}
    cost = gpu_hours.Cost(trained_gflops=2.0, trained_calls=10, bytes_per_image=1e6)
    w = gpu_hours.Work(cost, images=1000, batch=100)
    assert (w.steps, w.passes, w.flops) == (10, 1000, 3 * 2e9 * 1000)
    terms = w.terms(a)
    # compute per step: 3 x 2 GFLOP x 100 images / 1 TFLOP/s = 0.6 s >> launches 30 x 10 us
    assert terms["compute"] == pytest.approx(10 * 0.6) and terms["launch"] == 0
    assert terms["step"] == pytest.approx(10 * 1e-3) and terms["host"] == pytest.approx(1000 * 1e6 / 1e9)
    evaluation = gpu_hours.Work(cost, images=1000, batch=100, train=False)
    assert evaluation.flops == 2e9 * 1000 and evaluation.launches_per_step == 10


# --- the table -----------------------------------------------------------------------------------------------------

def test_every_enabled_method_has_a_positive_row(config, computed):
    from workflow.methods.registry import NAMES

    enabled = [m for m in NAMES if m in config["methods"]]
    assert {"baseline", "cpg", "packnet", "sidetune", "prior", "subspace", "dpnas"} <= set(enabled)
    assert list(computed["method"]) == enabled
    assert list(computed.columns) == gpu_hours.COLUMNS
    numeric = ["params", "gflops_per_image", "image_passes", "jobs", "gpu_jobs", "pflop", "steps", "host_gb",
               "gpu_hours_low", "gpu_hours_mid", "gpu_hours_high"]
    assert (computed[numeric] > 0).all().all(), computed[["method", *numeric]]
    assert (computed["gpu_hours_low"] <= computed["gpu_hours_mid"]).all()
    assert (computed["gpu_hours_mid"] <= computed["gpu_hours_high"]).all()
    assert computed["basis"].str.len().gt(20).all()


def test_committed_csv_is_what_the_script_computes(computed, committed):
    assert list(committed.columns) == gpu_hours.COLUMNS
    assert list(committed["method"]) == list(computed["method"])
    rest = computed["method"] != "dpnas"
    pd.testing.assert_frame_equal(committed[rest].reset_index(drop=True), computed[rest].reset_index(drop=True),
                                  check_dtype=False)
    dpnas = committed["method"] == "dpnas"
    pd.testing.assert_frame_equal(committed.loc[dpnas, SAMPLE_FREE].reset_index(drop=True),
                                  computed.loc[computed["method"] == "dpnas", SAMPLE_FREE].reset_index(drop=True),
                                  check_dtype=False)
    assert f"mean of {gpu_hours.DPNAS_SAMPLE}" in committed.loc[dpnas, "network"].iloc[0]


def test_report_is_marked_as_an_estimate_and_matches_the_csv(committed):
    text = gpu_hours.REPORT.read_text()
    assert text.startswith("# GPU hours of the paper config: an ESTIMATE, not a measurement")
    for r in committed.itertuples(index=False):
        assert f"| {r.method} | {r.network} |" in text and f"**{r.gpu_hours_mid:g}**" in text
    assert f"**{committed['gpu_hours_mid'].sum():.3g}**" in text
    assert "Replacing the estimate with measured numbers" in text


def test_hand_counts_of_the_schedules(config, committed):
    """Image passes of three rows, from the paper config by hand (the real dataset sizes)."""
    rows = committed.set_index("method")
    # baseline: 20 superclass tasks x (500 - 50) x 5 train images x 100 epochs x 1 seed
    assert rows.loc["baseline", "image_passes"] == 20 * 2250 * config["baseline"]["train"]["epochs"]
    # subspace: 16 models x 160 epochs x 45,000 CIFAR-10 train images x 2 seeds
    s = config["subspace"]
    models = s["standard_members"] + len(s["lines"]) + 2 * len(s["simplex_vertices"])
    assert rows.loc["subspace", "image_passes"] == models * s["train"]["epochs"] * 45_000 * len(s["seeds"])
    # CPG, upper bound: task 0 finetunes twice (growth), every task prunes at every level, tasks 1.. retrain
    c = config["cpg"]
    per_task = c["prune"]["train"]["epochs"] * len(c["prune"]["levels"])
    cpg = 2250 * (2 * c["finetune"]["train"]["epochs"] + per_task
                  + 19 * (c["finetune"]["train"]["epochs"] + per_task + c["retrain"]["train"]["epochs"]))
    assert rows.loc["cpg", "image_passes"] == cpg


def test_suite_sizes_follow_build_suite():
    """Per-class validation hold-out as build_suite: max(1, round(val_fraction x n)) of each class."""
    spec = {"dataset": "flowers102", "grouping": "classes", "tasks": 1, "classes_per_task": 102, "val_fraction": 0.1}
    assert gpu_hours.suite_tasks(spec) == [gpu_hours.Split(918, 102, 6149, 102)]
    spec = {"dataset": "cifar100", "grouping": "superclasses", "tasks": 20, "val_fraction": 0.1}
    assert gpu_hours.suite_tasks(spec) == [gpu_hours.Split(2250, 250, 500, 5)] * 20


# --- the jobs ------------------------------------------------------------------------------------------------------

def test_jobs_match_snakemakes_plan_of_the_paper_config(tmp_path, estimates, committed):
    """Snakemake's dry run of config/paper.yaml plans the jobs the table charges (but CPG's growth step: a
    checkpoint adds its grow job and finetune attempt only when a task misses its goal), and the GPU rules are
    those of the rules files."""
    wd = copy_workflow(tmp_path / "wf")
    out = snakemake(wd, "-n", "--cores", "16", "--configfile", "config/paper.yaml", "--quiet", "rules").stdout
    planned = {}
    for line in out[out.index("Job stats:"):].splitlines()[3:]:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        planned[parts[0]] = int(parts[1])
    assert planned, out
    gpu = gpu_hours.gpu_rules(REPO)
    assert {"baseline_train", "cpg_finetune", "subspace_eval", "dpnas_search"} <= gpu
    assert not gpu & {"cpg_choose", "cpg_grow", "baseline_collect", "download", "method_metrics"}
    conditional_gpu = sum(e.conditional_gpu_jobs for e in estimates)
    conditional_cpu = sum(e.conditional_cpu_jobs for e in estimates)
    assert conditional_gpu == conditional_cpu == 1  # paper.yaml: one seed, one growth step (1.0 -> 1.5)
    assert committed["gpu_jobs"].sum() - conditional_gpu == sum(n for r, n in planned.items() if r in gpu)
    not_charged = {"download", "claims", "all"}  # shared by every method, or the target
    assert committed["jobs"].sum() - conditional_gpu - conditional_cpu == \
        sum(n for r, n in planned.items() if r not in not_charged)


def test_upper_bounds_are_stated(committed):
    basis = committed.set_index("method")["basis"]
    assert "UPPER BOUND" in basis["cpg"] and "UPPER BOUND" in basis["dpnas"]
    assert "INCLUDES the shared jobs" in basis["sidetune"]
