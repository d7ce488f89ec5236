"""DP-NAS: the properties issue 7 asks for (encoder never trained and run once per architecture, net strings,
transition rules, the Q-update, infeasible nets, resumable search, export) and one Snakemake run."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch

from tests.conftest import make_tasks, snakemake
from workflow.methods.dpnas.encoder import build_encoder
from workflow.methods.dpnas.export import export_embeddings
from workflow.methods.dpnas.hypotheses import select
from workflow.methods.dpnas.netstring import Conv, End, embedding_shape, parse, resolutions, to_string
from workflow.methods.dpnas.qlearning import Agent, EpsilonSchedule, QTable
from workflow.methods.dpnas.scoring import ScoreConfig, embed, score_prior
from workflow.methods.dpnas.search import COLUMNS, SearchConfig, read_buffer, run_search
from workflow.methods.dpnas.space import CONV, POOL, START, WRN, SearchSpace

NET = "[C(8,3,1,1,1), C(8,3,1,1,0), P(2,2,0,0), C(4,1,1,0,1), SM(4)]"


@pytest.fixture(scope="module")
def task():
    torch.manual_seed(0)
    return make_tasks(n_tasks=1, classes_per_task=4, per_class=30)[0]


def small_space(**kw):
    args = dict(conv_sizes=[1, 3, 5], conv_features=[4, 8], pool_sizes=[2, 3], pool_strides=[2, 3], min_conv=2,
                max_conv=4, max_image_size=4, max_num_fc_input=256)
    args.update(kw)
    return SearchSpace(image_size=8, in_channels=1, classes=4, **args)


def sampled_nets(space, n=200, eps=1.0):
    agent = Agent(space)
    return [agent.sample(eps, np.random.default_rng([7, i])) for i in range(n)]


CFG = ScoreConfig(epochs=4, batch_size=16, lr=1e-2, early_stopping_epoch=2, early_stopping_threshold=0.0)


# -- scoring: the encoder is a fixed random prior, computed once ---------------------------------------------------

def test_encoder_parameters_bit_identical_after_scoring(task):
    encoder = build_encoder(NET, 1, 8, seed=3)
    before = {k: v.clone() for k, v in encoder.named_parameters()}
    score = score_prior(NET, task, CFG, seed=3, encoder=encoder)
    assert score.train_flag and len(score.acc_val_all_epochs) == CFG.epochs
    for name, p in encoder.named_parameters():
        assert torch.equal(p, before[name]), name
        assert not p.requires_grad
    # BN running statistics change once: exactly as one train-mode pass over the training set leaves them
    fresh = build_encoder(NET, 1, 8, seed=3)
    embed(fresh, task.train.x, train_mode=True, batch_size=CFG.batch_size)
    for (name, b), (_, ref) in zip(encoder.named_buffers(), fresh.named_buffers()):
        assert torch.equal(b, ref), name


def count_calls(encoder):
    calls = []
    encoder.register_forward_hook(lambda m, i, o: calls.append(len(i[0])))
    return calls


def test_encoder_runs_once_per_architecture(task):
    encoder = build_encoder(NET, 1, 8, seed=1)
    calls = count_calls(encoder)
    score_prior(NET, task, CFG, seed=1, encoder=encoder)
    n = len(task.train) + len(task.val) + len(task.test)
    assert sum(calls) == n  # every example through the encoder exactly once, whatever the number of epochs
    expected = sum(math.ceil(len(s) / CFG.batch_size) for s in (task.train, task.val, task.test))
    assert len(calls) == expected
    slow = build_encoder(NET, 1, 8, seed=1)
    slow_calls = count_calls(slow)
    score_prior(NET, task, CFG, seed=1, encoder=slow, cache=False)
    assert sum(slow_calls) > CFG.epochs * len(task.train)  # the uncached path re-encodes every epoch


def test_reward_is_mean_of_last_five_val_accuracies_and_early_stop(task):
    score = score_prior(NET, task, ScoreConfig(epochs=7, batch_size=16, early_stopping_epoch=3,
                                               early_stopping_threshold=0.0), seed=0)
    assert score.reward == pytest.approx(np.mean(score.acc_val_all_epochs[-5:]) / 100)
    stopped = score_prior(NET, task, ScoreConfig(epochs=7, batch_size=16, early_stopping_epoch=3,
                                                 early_stopping_threshold=1.01), seed=0)
    assert not stopped.train_flag and stopped.acc_test_last == 0 and len(stopped.acc_val_all_epochs) == 3


# -- net strings and the enumerator -------------------------------------------------------------------------------

@pytest.mark.parametrize("image", [8, 28])
def test_parse_print_round_trip_and_resolutions_match_forward(image):
    space = small_space(conv_sizes=[1, 3, 5, 7], pool_sizes=[2, 3, 4], pool_strides=[2, 3, 4], max_conv=6)
    space.image_size = image
    readme = "[C(32,5,1,2,1), P(4,4,0,0), C(32,3,1,1,0), C(1024,1,1,0,1), C(512,3,1,0,1), SM(10)]"
    assert to_string(parse(readme)) == readme
    assert resolutions(parse(readme), 28) == [28, 7, 7, 7, 5, 5]
    for trajectory in sampled_nets(space, 40 if image == 8 else 15):
        layers = space.layers(trajectory)
        text = to_string(layers)
        assert to_string(parse(text)) == text
        assert space.trajectory(parse(text)) == trajectory
        sizes = resolutions(layers, image)
        assert sizes[:-1] == [s.image_size for s in trajectory[1:-1]]
        x = torch.zeros(2, 1, image, image)
        encoder = build_encoder(layers, 1, image, seed=0).eval()
        for module, size in zip(_layer_modules(encoder, layers), sizes):
            x = module(x)
            assert x.shape[-1] == x.shape[-2] == size, text
        assert encoder(torch.zeros(2, 1, image, image)).shape[1] == math.prod(embedding_shape(layers, 1, image))


def _layer_modules(encoder, layers):
    """The encoder's modules grouped per net-string layer (a plain conv is conv + BN + ReLU)."""
    body, k = list(encoder.body), 0
    for layer in layers:
        if isinstance(layer, Conv) and not layer.residual:
            yield torch.nn.Sequential(*body[k:k + 3])
            k += 3
        elif isinstance(layer, End):
            yield torch.nn.Identity()
        else:
            yield body[k]
            k += 1


def test_parse_rejects_malformed_strings():
    from workflow.errors import UserError
    for bad in ["C(8,3,1,1,1), SM(4)", "[C(8,3,1,1), SM(4)]", "[C(8,3,1,1,1)]", "[SM(4), SM(4)]", "[X(1), SM(2)]"]:
        with pytest.raises(UserError):
            parse(bad)


def test_enumerator_never_emits_a_forbidden_transition():
    space = small_space(max_conv=5)
    seen = set()
    for trajectory in sampled_nets(space, 300):
        assert trajectory[0].layer_type == START and trajectory[-1].terminate == 1
        assert trajectory[1].layer_type in (CONV, WRN)  # never a pool first, never an empty net
        for prev, nxt in zip(trajectory, trajectory[1:]):
            seen.add(prev)
            assert nxt in space.actions(prev)
    assert len(seen) > 30
    for state in seen:  # every listed action of every visited state obeys the rules
        convs_fit = any(k < state.image_size for k in space.conv_sizes) and state.layer_depth < space.max_conv
        for a in space.actions(state):
            assert a.layer_depth <= space.max_conv
            if a.terminate:
                assert state.layer_type != START
                assert state.layer_depth >= space.min_conv or not convs_fit
            elif a.layer_type == POOL:
                assert state.layer_type in (CONV, WRN)
                assert a.filter_size < state.image_size and a.stride <= a.filter_size
                assert (state.image_size - a.filter_size) % a.stride == 0
            elif a.layer_type == CONV:
                assert a.filter_size < state.image_size and a.padding in (0, (a.filter_size - 1) // 2)
            else:
                assert state.image_size > 3 and a.image_size == state.image_size


# -- Q-learning ----------------------------------------------------------------------------------------------------

def test_q_update_two_step_trajectory_matches_formula():
    space = small_space()
    alpha, gamma, r = 0.1, 0.9, 0.8
    agent = Agent(space, learning_rate=alpha, discount=gamma, init=0.15)
    s0 = space.start()
    s1 = [a for a in space.actions(s0) if a.layer_type == CONV and a.filter_size == 5 and a.padding == 0][0]
    s2 = [a for a in space.actions(s1) if a.layer_type == CONV and a.filter_size == 3 and a.padding == 0][0]
    end = s2._replace(terminate=1)
    trajectory = [s0, s1, s2, end]
    agent.update(trajectory, r)
    q_end = 0.15 + alpha * (r - 0.15)                       # Q(s2, end)
    q_12 = 0.15 + alpha * (gamma * max(q_end, 0.15) - 0.15)  # Q(s1, s2), max over s2's actions
    q_01 = 0.15 + alpha * (gamma * max(q_12, 0.15) - 0.15)   # Q(s0, s1)
    v = agent.table.values
    assert v[(s2, end)] == pytest.approx(q_end, abs=1e-15)
    assert v[(s1, s2)] == pytest.approx(q_12, abs=1e-15)
    assert v[(s0, s1)] == pytest.approx(q_01, abs=1e-15)
    # lazily initialised: every other action of a visited state holds 0.15
    assert all(v[(s0, a)] == 0.15 for a in space.actions(s0) if a != s1)
    # a second update moves towards the target again
    agent.update(trajectory, r)
    assert v[(s2, end)] == pytest.approx(q_end + alpha * (r - q_end), abs=1e-15)
    # Q-values survive a CSV round trip exactly
    again = QTable.from_frame(agent.table.to_frame(), space)
    assert again.values == agent.table.values


def test_greedy_agent_repeats_the_argmax_net():
    space = small_space()
    agent = Agent(space)
    best = sampled_nets(space, 1)[0]
    agent.update(best, 1.0)
    for _ in range(30):
        agent.update(best, 1.0)
    nets = {to_string(space.layers(agent.sample(0.0, np.random.default_rng(i)))) for i in range(5)}
    assert nets == {to_string(space.layers(best))}


def test_epsilon_schedule():
    s = EpsilonSchedule([[1.0, 2], [0.5, 1]])
    assert [s.epsilon(i) for i in range(4)] == [1.0, 1.0, 0.5, None] and s.total == 3


# -- the search loop -----------------------------------------------------------------------------------------------

SEARCH = SearchConfig(epsilon_schedule=[[1.0, 6], [0.2, 4]], replay_number=10)
FAST = ScoreConfig(epochs=3, batch_size=32, lr=1e-2, early_stopping_epoch=2, early_stopping_threshold=0.0)


def test_infeasible_nets_get_zero_and_do_not_count(task, tmp_path):
    space = small_space(max_image_size=2, max_num_fc_input=64)
    buffer, _ = run_search(task, space, SEARCH, FAST, seed=0, state_dir=tmp_path)
    assert list(buffer.columns) == COLUMNS
    counted = buffer["reward"] > 0
    assert counted.sum() == 10 and (~counted).sum() > 0
    for row in buffer[~counted].itertuples():
        assert not space.feasible(parse(row.net)) and not row.train_flag and row.acc_val_all_epochs == "[]"
    assert all(space.feasible(parse(n)) for n in buffer.loc[counted, "net"])
    schedule = EpsilonSchedule(SEARCH.epsilon_schedule)
    before = np.concatenate([[0], np.cumsum(counted.to_numpy())[:-1]])
    assert list(buffer["epsilon"]) == [schedule.epsilon(int(c)) for c in before]
    # duplicates reuse the stored reward
    for net, rows in buffer.groupby("net"):
        assert rows["reward"].nunique() == 1


def test_interrupted_search_resumes_to_the_same_buffer(task, tmp_path):
    space = small_space()
    run_search(task, space, SEARCH, FAST, seed=5, state_dir=tmp_path / "whole")
    run_search(task, space, SEARCH, FAST, seed=5, state_dir=tmp_path / "cut", stop_after=4)
    assert len(read_buffer(tmp_path / "cut" / "replay_buffer.csv")) == 4
    run_search(task, space, SEARCH, FAST, seed=5, state_dir=tmp_path / "cut")
    for name in ("replay_buffer.csv", "q_values.csv"):
        assert (tmp_path / "cut" / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name


def test_select_picks_six_low_middle_top_distinct():
    rewards = np.linspace(0.1, 0.9, 30)
    buffer = pd.DataFrame({"net": [f"n{i}" for i in range(30)] + ["n29", "z"], "reward": [*rewards, 0.9, 0.0]})
    chosen = select(buffer, 6)
    assert list(chosen["group"]) == ["low"] * 6 + ["middle"] * 6 + ["top"] * 6
    assert list(chosen["net"]) == [f"n{i}" for i in [*range(6), *range(12, 18), *range(24, 30)]]
    assert chosen["net"].is_unique and list(chosen["row"][-1:]) == [29]


def test_default_config_low_epsilon_beats_random_phase(tmp_path):
    """The paper's figure-2 trend on the default config (digits, seed 0): exploitation beats exploration."""
    import yaml

    from tests.conftest import REPO
    from workflow.data import build_suite, fetch_dataset
    from workflow.methods.dpnas.task import search_space, suite_spec
    from workflow.training import seed_everything

    params = yaml.safe_load((REPO / "config" / "config.yaml").read_text())["dpnas"]
    seed_everything(0)
    digits = fetch_dataset(params["dataset"], tmp_path)
    task = build_suite(suite_spec(params, len(digits.classes)), digits)[0]
    buffer, _ = run_search(task, search_space(params, task), SearchConfig.from_dict(params["search"]),
                           ScoreConfig.from_dict(params["classifier"]), seed=0, state_dir=tmp_path / "s")
    phases = buffer[buffer["reward"] > 0].groupby("epsilon")["reward"].mean()
    assert phases[phases.index.min()] > phases[1.0]


# -- export --------------------------------------------------------------------------------------------------------

def test_export_loads_with_datasetfolder(task, tmp_path):
    from torchvision.datasets import DatasetFolder

    info = export_embeddings(NET, task, seed=2, out_dir=tmp_path / "export", batch_size=16)
    length = math.prod(embedding_shape(parse(NET), 1, 8))
    assert info["length"] == length
    for split in ("train", "val", "test"):
        ds = DatasetFolder(str(tmp_path / "export" / split), loader=lambda p: torch.from_numpy(np.load(p)),
                           extensions=(".npy",))
        data = getattr(task, split)
        assert len(ds) == len(data)
        x, y = ds[0]
        assert x.dtype == torch.float32 and x.shape == (length,)
        assert sorted(ds.targets) == sorted(data.y.tolist())
    # the train vectors are the prior's train-mode embedding, as scored
    encoder = build_encoder(NET, 1, 8, seed=2)
    z = embed(encoder, task.train.x, train_mode=True, batch_size=16)
    label = int(task.train.y[0])
    assert np.array_equal(np.load(tmp_path / "export" / "train" / f"{label:06d}" / "000000.npy"), z[0].numpy())


# -- the rules, end to end -----------------------------------------------------------------------------------------

def test_snakemake_runs_dpnas_on_test_config(test_config_run):
    workdir = test_config_run("2")  # the session's shared run of config/test.yaml (every method; read only)
    out = workdir / "results" / "dpnas" / "digits" / "seed0"
    buffer = read_buffer(out / "replay_buffer.csv")
    assert list(buffer.columns) == COLUMNS and (buffer["reward"] > 0).sum() == 18
    q = pd.read_csv(out / "q_values.csv")
    assert list(q.columns)[:2] == ["start_layer_type", "start_layer_depth"] and q.columns[-1] == "utility"
    table = pd.read_csv(out / "hypotheses.csv")
    assert list(table.columns) == ["net", "group", "kind", "seed", "accuracy"]
    assert table.groupby("kind").size().to_dict() == {"full": 6, "random": 6, "resampled": 6}
    assert (out / "summary.json").exists() and (out / "export" / "embedding.json").exists()
    for fig in ("rolling_reward", "hypotheses"):
        assert (workdir / "results" / "figures" / "dpnas" / f"digits_seed0_{fig}.png").stat().st_size > 0
    assert not (out / ".search").exists()
    dry = snakemake(workdir, "-n", "--cores", "1", "--configfile", "config/test.yaml")
    assert "Nothing to be done" in dry.stdout + dry.stderr
