"""Faults a user meets: a job killed mid-training, corrupt inputs, an unwritable results folder."""

import json
import signal
import subprocess
import sys
import time

import psutil
import pytest
import torch

from tests.conftest import copy_workflow, snakemake

pytestmark = pytest.mark.e2e
TARGET = "results/baseline/split_digits_tiny/seed0/task0/result.json"
# Long enough to be killed mid-training: the kill comes 0.3 s after the first checkpoint; the 150 epochs take ~4 s
# (0.03 s an epoch with its checkpoint, measured on a 2-core machine; 400 epochs took 230 s of the suite).
EPOCHS = 150
LONG = ("baseline:\n  train: {epochs: %d, batch_size: 32, optimizer: sgd, lr: 0.05, momentum: 0.9, schedule: cosine}\n"
        % EPOCHS)


def start(wd):
    (wd / "long.yaml").write_text(LONG)
    cmd = [sys.executable, "-m", "snakemake", TARGET, "--cores", "1", "--configfile", "config/test.yaml", "long.yaml"]
    return subprocess.Popen(cmd, cwd=wd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_sigkill_mid_training_then_rerun_equals_uninterrupted(tmp_path):
    clean = copy_workflow(tmp_path / "clean")
    (clean / "long.yaml").write_text(LONG)
    snakemake(clean, TARGET, "--cores", "1", "--configfile", "config/test.yaml", "long.yaml")

    wd = copy_workflow(tmp_path / "killed")
    proc = start(wd)
    resume = wd / "results/baseline/split_digits_tiny/seed0/task0/.resume.pt"
    deadline = time.time() + 300
    while not resume.exists() and time.time() < deadline:
        time.sleep(0.05)
    assert resume.exists(), "training never checkpointed"
    time.sleep(0.3)
    jobs = [p for p in psutil.Process(proc.pid).children(recursive=True)
            if any("baseline_train.py" in part for part in p.cmdline())]
    assert jobs, "the training job finished before it could be killed"
    for job in jobs:
        job.send_signal(signal.SIGKILL)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode != 0, out
    assert not (wd / TARGET).exists()
    epochs_done = torch.load(resume, weights_only=False)["epoch"]
    assert 0 <= epochs_done < EPOCHS - 1

    snakemake(wd, TARGET, "--cores", "1", "--configfile", "config/test.yaml", "long.yaml")
    assert not resume.exists()
    a = json.loads((clean / TARGET).read_text())
    b = json.loads((wd / TARGET).read_text())
    assert a == b
    ma = torch.load(clean / TARGET.replace("result.json", "model.pt"), weights_only=False)["state_dict"]
    mb = torch.load(wd / TARGET.replace("result.json", "model.pt"), weights_only=False)["state_dict"]
    assert all(torch.equal(ma[k], mb[k]) for k in ma)


def test_corrupt_dataset_is_detected_with_a_fix(workdir):
    snakemake(workdir, "resources/data/digits/manifest.json", "--cores", "1", "--configfile", "config/test.yaml")
    arrays = workdir / "resources/data/digits/arrays.npz"
    data = bytearray(arrays.read_bytes())
    data[1000] ^= 0xFF
    arrays.write_bytes(bytes(data))
    # timestamps keep the corrupted file "up to date" for Snakemake: the job itself must catch it
    proc = snakemake(workdir, TARGET, "--cores", "1", "--configfile", "config/test.yaml", check=False)
    assert proc.returncode != 0
    log = (workdir / "logs/baseline_train/split_digits_tiny/seed0/task0.log").read_text()
    assert "fails its checksum" in log and "rerun snakemake" in log
    assert "fails its checksum" in proc.stderr  # the user sees it without opening the log


def test_unwritable_results_gives_a_clear_error(workdir):
    (workdir / "results").write_text("not a folder")
    proc = snakemake(workdir, "--cores", "1", "--configfile", "config/test.yaml", check=False)
    assert proc.returncode == 1
    assert "cannot write to 'results/'" in proc.stderr and "Traceback" not in proc.stderr


def test_full_disk_is_refused_before_any_job(workdir):
    results = workdir / "results"
    results.mkdir()
    mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(results)], capture_output=True)
    if mount.returncode != 0:
        pytest.skip(f"cannot mount a 1 MB tmpfs to fake a full disk (needs root): {mount.stderr.decode().strip()}")
    try:
        proc = snakemake(workdir, "--cores", "1", "--configfile", "config/test.yaml", check=False)
    finally:
        subprocess.run(["umount", str(results)], check=True)
    assert proc.returncode == 1 and "MB free for 'results/'" in proc.stderr
    assert not (workdir / "resources/data/digits/arrays.npz").exists()
