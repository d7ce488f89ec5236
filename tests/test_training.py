"""The shared training loop: learning, hooks, determinism, exact resume, checkpoint integrity."""

import pytest
import torch

from tests.conftest import make_tasks
from workflow.errors import CorruptFile, UserError
from workflow.io import torch_load, torch_save
from workflow.models import build_classifier
from workflow.training import (EarlyStopping, Hook, RecomputeBatchNorm, TrainConfig, Trainer, evaluate,
                               seed_everything)
from workflow.training.loop import crop_flip, lr_factor

CFG = {"epochs": 4, "batch_size": 16, "optimizer": "sgd", "lr": 0.05, "momentum": 0.9}


def train(task, cfg=CFG, seed=0, **kw):
    seed_everything(seed)
    net = build_classifier("small_cnn", task.train.x.shape[1:], task.num_classes, width=0.5)
    hist = Trainer(net, TrainConfig.from_dict(cfg), seed=seed, desc=None, **kw).fit(task.train, task.val)
    return net, hist


def test_learns_a_synthetic_task(tiny_tasks):
    net, hist = train(tiny_tasks[0])
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert evaluate(net, tiny_tasks[0].test)["accuracy"] > 0.9


def test_same_seed_same_weights_other_seed_differs(tiny_tasks):
    a, _ = train(tiny_tasks[0], seed=1)
    b, _ = train(tiny_tasks[0], seed=1)
    c, _ = train(tiny_tasks[0], seed=2)
    for (k, va), vb in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(va, vb), k
    assert not all(torch.equal(va, vc) for va, vc in zip(a.state_dict().values(), c.state_dict().values()))


class Counter(Hook):
    def __init__(self):
        self.calls = {}

    def _count(self, name):
        self.calls[name] = self.calls.get(name, 0) + 1

    def on_fit_start(self, t): self._count("fit_start")
    def on_epoch_start(self, t): self._count("epoch_start")
    def on_batch_start(self, t): self._count("batch")
    def extra_loss(self, t):
        self._count("extra_loss")
        return torch.zeros(())
    def after_backward(self, t): self._count("after_backward")
    def after_step(self, t): self._count("after_step")
    def before_validation(self, t, train): self._count("before_validation")
    def on_epoch_end(self, t, record): self._count("epoch_end")
    def on_fit_end(self, t): self._count("fit_end")


def test_hooks_are_called_in_every_phase(tiny_tasks):
    hook = Counter()
    train(tiny_tasks[0], hooks=[hook])
    c = hook.calls
    assert c["fit_start"] == c["fit_end"] == 1
    assert c["epoch_start"] == c["before_validation"] == c["epoch_end"] == 4
    assert c["batch"] == c["extra_loss"] == c["after_backward"] == c["after_step"] > 4


def test_gradient_hook_freezes_a_layer(tiny_tasks):
    class FreezeHead(Hook):
        def after_backward(self, t):
            t.model.head.weight.grad = None  # as a mask would zero it

    seed_everything(0)
    net = build_classifier("small_cnn", (1, 8, 8), 2, width=0.5)
    before = net.head.weight.detach().clone()
    Trainer(net, TrainConfig.from_dict(CFG), hooks=[FreezeHead()], desc=None).fit(tiny_tasks[0].train)
    assert torch.equal(before, net.head.weight)


def test_early_stopping_stops_and_restores_best(tiny_tasks):
    stopper = EarlyStopping(patience=1)
    cfg = {**CFG, "epochs": 30, "lr": 0.5}
    net, hist = train(tiny_tasks[0], cfg=cfg, hooks=[stopper])
    assert len(hist) < 30
    assert evaluate(net, tiny_tasks[0].val)["accuracy"] == pytest.approx(stopper.best)


def test_resume_after_interruption_equals_uninterrupted(tiny_tasks, tmp_path):
    task = tiny_tasks[0]
    full, _ = train(task, seed=3)
    ckpt = tmp_path / "resume.pt"
    # "interrupted" run: only 2 of 4 epochs, with checkpoints
    train(task, cfg={**CFG, "epochs": 2}, seed=3, checkpoint_path=ckpt)
    # fresh process state (other RNG draws in between), then resume to 4 epochs
    torch.manual_seed(999)
    seed_everything(3)
    net = build_classifier("small_cnn", (1, 8, 8), 2, width=0.5)
    torch.randn(100)
    Trainer(net, TrainConfig.from_dict(CFG), seed=3, checkpoint_path=ckpt, desc=None).fit(task.train, task.val)
    for (k, va), vb in zip(full.state_dict().items(), net.state_dict().values()):
        assert torch.equal(va, vb), k


def test_truncated_checkpoint_is_refused(tmp_path):
    path = torch_save(tmp_path / "ckpt.pt", {"w": torch.ones(1000)})
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CorruptFile, match="corrupt"):
        torch_load(path)


def test_unknown_training_key_is_a_user_error():
    with pytest.raises(UserError, match="epoch"):
        TrainConfig.from_dict({"epoch": 3})


def test_lr_schedules():
    step = TrainConfig(epochs=100, schedule="step", lr_milestones=[50, 80], lr_gamma=0.1)
    assert [lr_factor(step, e) for e in (0, 49, 50, 80)] == pytest.approx([1, 1, 0.1, 0.01])
    cos = TrainConfig(epochs=10, schedule="cosine", warmup_epochs=0)
    assert lr_factor(cos, 0) == 1 and lr_factor(cos, 5) == pytest.approx(0.5)
    warm = TrainConfig(epochs=10, schedule="cosine", warmup_epochs=4)
    assert lr_factor(warm, 0) == pytest.approx(0.2)


def test_crop_flip_keeps_shape_and_content_scale():
    torch.manual_seed(0)
    x = torch.rand(8, 3, 32, 32)
    y = crop_flip(x)
    assert y.shape == x.shape and y.abs().sum() > 0 and y.max() <= x.max()


def test_batchnorm_statistics_follow_weights_that_jumped(tiny_tasks):
    """After an abrupt weight change the momentum-0.1 running averages lag; the hook re-estimates them exactly."""
    task = tiny_tasks[0]
    net, _ = train(task, cfg={**CFG, "epochs": 1})
    conv, bn = net.backbone.features[0], net.backbone.features[1]
    with torch.no_grad():
        conv.weight.mul_(5.0)  # a pruning ramp of a few steps does much the same
    stale = bn.running_var.clone()
    trainer = Trainer(net, TrainConfig.from_dict({**CFG, "epochs": 1}), desc=None)
    net.eval()
    RecomputeBatchNorm().before_validation(trainer, task.train)
    with torch.no_grad():
        pre = conv(task.train.x)  # the BatchNorm's input over the whole training split
    torch.testing.assert_close(bn.running_mean, pre.mean((0, 2, 3)), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(bn.running_var, pre.var((0, 2, 3), unbiased=True), rtol=1e-3, atol=1e-5)
    assert not torch.allclose(stale, bn.running_var, rtol=0.5)
    assert bn.momentum == 0.1 and not net.training  # momentum and mode as they were


def test_a_kill_between_checkpoint_and_checksum_leaves_a_loadable_file(tmp_path, monkeypatch):
    """torch_save renames the new file in, then writes its checksum: a kill between the two must not leave the
    new file beside the old checksum (a resumed run would refuse its own checkpoint)."""
    import workflow.io as io

    path = tmp_path / "resume.pt"
    torch_save(path, {"epoch": 1})

    def killed(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(io, "write_text", killed)
    with pytest.raises(KeyboardInterrupt):
        torch_save(path, {"epoch": 2})
    monkeypatch.undo()
    assert torch_load(path)["epoch"] == 2





@pytest.mark.parametrize("name, kwargs", [("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 5e-4}),
                                          ("Adam", {"lr": 0.01, "weight_decay": 1e-4}),
                                          ("AdamW", {"lr": 0.01, "weight_decay": 1e-2})])
def test_optimizers_without_compile_guards_give_torchs_numbers_and_state(name, kwargs):
    """workflow.training.optimizers calls torch's update code without the torch.compile guards: the same weights,
    bit for bit, and state dicts that load into torch's own optimizer (and back)."""
    import copy

    from workflow.training import optimizers

    stock_cls, eager_cls = getattr(torch.optim, name), getattr(optimizers, name)
    assert eager_cls is not stock_cls and issubclass(eager_cls, stock_cls)  # torch 2.14's guards were found
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    x, y = torch.randn(32, 8), torch.randint(0, 3, (32,))
    nets = [copy.deepcopy(net), copy.deepcopy(net)]
    opts = [stock_cls(nets[0].parameters(), **kwargs), eager_cls(nets[1].parameters(), **kwargs)]
    for _ in range(5):
        for n, o in zip(nets, opts):
            o.zero_grad()
            torch.nn.functional.cross_entropy(n(x), y).backward()
            o.step()
    assert all(torch.equal(a, b) for a, b in zip(*(n.parameters() for n in nets)))
    states = [o.state_dict() for o in opts]
    assert states[0]["param_groups"] == states[1]["param_groups"]
    assert all(torch.equal(states[0]["state"][k][s], states[1]["state"][k][s])
               for k in states[0]["state"] for s in states[0]["state"][k])
    opts[1].load_state_dict(states[0])
    opts[0].load_state_dict(states[1])


def test_a_torch_without_those_guards_keeps_its_own_optimizers():
    from workflow.training.optimizers import eager

    class Plain(torch.optim.Optimizer):
        def step(self, closure=None):
            return None

    class Bare:  # no guarded method at all
        pass

    assert eager(Bare) is Bare
    assert eager(Plain).step is Plain.step  # only the guarded methods are replaced


def test_seeding_and_training_do_not_import_the_compiler():
    """seed_everything sets torch's deterministic-kernel flag (warnings only) as use_deterministic_algorithms does,
    and the shared loop's optimizers (SGD here, CPG's mask Adam, the prior's SGLD) step, all without importing
    torch.compile's stack (1.2-1.5 s of CPU a job). Checked in a fresh interpreter that trains."""
    import subprocess
    import sys

    from tests.conftest import REPO

    code = ("import sys, torch\n"
            "from tests.conftest import make_tasks\n"
            "from workflow.models import build_classifier\n"
            "from workflow.training import evaluate, seed_everything\n"
            "from workflow.methods import baseline\n"
            "from workflow.methods.prior.sgld import SGLD\n"
            "from workflow.training.optimizers import Adam\n"
            "seed_everything(0)\n"
            "task = make_tasks()[0]\n"
            "evaluate(build_classifier('small_cnn', task.train.x.shape[1:], task.num_classes, 0.5), task.val)\n"
            "baseline.train_task(task, model='small_cnn', width=0.5, seed=0, device=torch.device('cpu'),\n"
            "                    train={'epochs': 1, 'batch_size': 16, 'optimizer': 'sgd', 'lr': 0.05, 'momentum': 0.9})\n"
            "w = torch.nn.Parameter(torch.ones(3))\n"
            "for opt in (Adam([w], lr=0.1), SGLD([w], lr=0.1, n_train=10)):\n"
            "    opt.zero_grad(); (w ** 2).sum().backward(); opt.step(); opt.load_state_dict(opt.state_dict())\n"
            "print(torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled())\n"
            "print(sorted(m for m in sys.modules if m.startswith(('torch._dynamo', 'torch._inductor'))))\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.splitlines()[-2:] == ["True True", "[]"], proc.stdout
