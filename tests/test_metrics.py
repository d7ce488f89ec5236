"""Metrics on hand-made accuracy matrices (formulas in workflow/metrics.py)."""

import math

import numpy as np
import pandas as pd
import pytest
import torch

from workflow import metrics

NAN = float("nan")
# after task 0: task0 0.9; after 1: 0.7, 0.8; after 2: 0.5, 0.6, 0.95
R = np.array([[0.9, NAN, NAN], [0.7, 0.8, NAN], [0.5, 0.6, 0.95]])


def test_long_form_round_trip():
    frame = metrics.accuracy_frame(R)
    assert list(frame.columns) == ["after_task", "task", "accuracy"]
    assert len(frame) == 6
    np.testing.assert_array_equal(metrics.accuracy_matrix(frame), R)


def test_average_accuracy_is_mean_of_last_row():
    assert metrics.average_accuracy(R) == pytest.approx((0.5 + 0.6 + 0.95) / 3)


def test_backward_transfer():
    assert metrics.backward_transfer(R) == pytest.approx(((0.5 - 0.9) + (0.6 - 0.8)) / 2)


def test_forgetting_uses_best_earlier_accuracy():
    # task 0: max(0.9, 0.7) - 0.5 = 0.4; task 1: 0.8 - 0.6 = 0.2
    assert metrics.forgetting(R) == pytest.approx(0.3)


def test_no_forgetting_matrix():
    r = np.array([[0.9, NAN], [0.9, 0.8]])
    assert metrics.forgetting(r) == 0.0 and metrics.backward_transfer(r) == 0.0


def test_forward_transfer_needs_upper_triangle():
    assert math.isnan(metrics.forward_transfer(R, np.array([0.5, 0.5, 0.5])))
    full = np.array([[0.9, 0.6], [0.8, 0.85]])
    assert metrics.forward_transfer(full, np.array([0.5, 0.5])) == pytest.approx(0.1)


def test_transfer_vs_reference():
    assert metrics.transfer_vs_reference(R, [0.9, 0.9, 0.9]) == pytest.approx((0 - 0.1 + 0.05) / 3)


def test_summary_replaces_nan_with_none():
    s = metrics.summarize(R)
    assert s["forward_transfer"] is None and s["num_tasks"] == 3
    assert s["final_accuracy_per_task"] == [0.5, 0.6, 0.95]


def test_classification_metrics():
    logits = torch.tensor([[2.0, 0.0], [0.0, 3.0], [1.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 1, 1, 1])
    m = metrics.classification_metrics(logits, labels)
    assert m["accuracy"] == 0.75
    expected_nll = torch.nn.functional.cross_entropy(logits, labels).item()
    assert m["nll"] == pytest.approx(expected_nll)


def test_ece_of_perfectly_calibrated_and_overconfident():
    probs = torch.tensor([[1.0, 0.0]] * 4)
    assert metrics.expected_calibration_error(probs, torch.tensor([0, 0, 0, 0])) == pytest.approx(0.0)
    assert metrics.expected_calibration_error(probs, torch.tensor([0, 0, 1, 1])) == pytest.approx(0.5)


def test_probs_metrics_matches_logit_metrics():
    logits = torch.randn(20, 3, generator=torch.Generator().manual_seed(0))
    labels = torch.arange(20) % 3
    a = metrics.classification_metrics(logits, labels)
    b = metrics.probs_metrics(torch.softmax(logits, 1), labels)
    assert a["accuracy"] == b["accuracy"] and a["nll"] == pytest.approx(b["nll"], rel=1e-5)


def test_accuracy_matrix_reads_csv_written_by_pandas(tmp_path):
    path = tmp_path / "accuracy.csv"
    metrics.accuracy_frame(R).to_csv(path, index=False)
    np.testing.assert_allclose(metrics.accuracy_matrix(pd.read_csv(path)), R)
