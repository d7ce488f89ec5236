"""Dataset store, IDX reader and task suites."""

import gzip

import numpy as np
import pytest
import torch

from workflow.data import build_suite, fetch_dataset, load_arrays, save_arrays
from workflow.data.registry import read_idx
from workflow.data.store import ArraySet
from workflow.errors import CorruptFile, DatasetUnavailable, UserError


@pytest.fixture(scope="module")
def digits():
    return fetch_dataset("digits", "unused")


def test_digits_is_embedded_and_split(digits):
    assert digits.x_train.shape[1:] == (1, 8, 8)
    assert len(digits.y_train) + len(digits.y_test) == 1797
    assert set(np.unique(digits.y_test)) == set(range(10))


def test_store_round_trip_and_corruption_is_detected(tmp_path, digits):
    save_arrays(tmp_path / "digits", digits)
    back = load_arrays(tmp_path / "digits")
    np.testing.assert_array_equal(back.x_train, digits.x_train)
    assert back.classes == digits.classes
    arrays = tmp_path / "digits" / "arrays.npz"
    raw = bytearray(arrays.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    arrays.write_bytes(bytes(raw))
    with pytest.raises(CorruptFile, match="checksum.*Delete the folder"):
        load_arrays(tmp_path / "digits")


def test_missing_dataset_folder_says_how_to_make_it(tmp_path):
    with pytest.raises(UserError, match="snakemake"):
        load_arrays(tmp_path / "nothing")


def test_unknown_dataset_lists_available():
    with pytest.raises(DatasetUnavailable, match="digits"):
        fetch_dataset("imagenet", "unused")


def test_idx_reader(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    header = bytes([0, 0, 8, 3]) + b"".join(d.to_bytes(4, "big") for d in images.shape)
    path = tmp_path / "x-idx3-ubyte.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(header + images.tobytes())
    np.testing.assert_array_equal(read_idx(path), images)
    bad = tmp_path / "bad-idx3-ubyte"
    bad.write_bytes(header + images.tobytes()[:-3])
    with pytest.raises(CorruptFile, match="truncated"):
        read_idx(bad)


def test_split_digits_tasks_are_disjoint_and_relabelled(digits):
    spec = {"dataset": "digits", "tasks": 5, "classes_per_task": 2, "class_order_seed": 0, "val_fraction": 0.15}
    tasks = build_suite(spec, digits)
    assert len(tasks) == 5
    seen = [c for t in tasks for c in t.classes]
    assert sorted(seen) == list(range(10))
    for t in tasks:
        for split in (t.train, t.val, t.test):
            assert set(split.y.tolist()) == {0, 1}
            assert split.x.dtype == torch.float32
        # label i means the task's i-th class
        original = digits.y_test[np.isin(digits.y_test, t.classes)]
        assert t.test.y.tolist() == [t.classes.index(c) for c in original]
    total_train = sum(len(t.train) + len(t.val) for t in tasks)
    assert total_train == len(digits.y_train)


def test_validation_is_held_out_of_training(digits):
    spec = {"dataset": "digits", "tasks": 1, "class_groups": [[3, 8]], "val_fraction": 0.2, "class_order_seed": 1}
    task = build_suite(spec, digits)[0]
    train_rows = {tuple(x.flatten().tolist()) for x in task.train.x}
    assert not any(tuple(x.flatten().tolist()) in train_rows for x in task.val.x[:20])
    assert len(task.val) == pytest.approx(0.2 * (len(task.val) + len(task.train)), abs=2)


def test_class_order_seed_alone_sets_the_order(digits):
    base = {"dataset": "digits", "tasks": 5, "classes_per_task": 2, "val_fraction": 0.1}
    a = [t.classes for t in build_suite({**base, "class_order_seed": 0}, digits)]
    b = [t.classes for t in build_suite({**base, "class_order_seed": 0}, digits)]
    c = [t.classes for t in build_suite({**base, "class_order_seed": 1}, digits)]
    natural = [t.classes for t in build_suite({**base, "class_order_seed": None}, digits)]
    assert a == b and a != c
    assert natural == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_train_per_class_subsamples(digits):
    spec = {"dataset": "digits", "tasks": 2, "classes_per_task": 2, "class_order_seed": 0, "val_fraction": 0.1,
            "train_per_class": 10}
    assert all(len(t.train) == 20 for t in build_suite(spec, digits))


def test_too_many_classes_is_a_user_error(digits):
    with pytest.raises(UserError, match="lower"):
        build_suite({"dataset": "digits", "tasks": 6, "classes_per_task": 2}, digits)


def test_superclass_grouping():
    rng = np.random.default_rng(0)
    fine = np.repeat(np.arange(6), 10)
    coarse = fine // 3  # two superclasses of three fine classes each
    x = rng.integers(0, 255, size=(60, 3, 4, 4), dtype=np.uint8)
    data = ArraySet("fake", x, fine, x, fine, [str(i) for i in range(6)], coarse_train=coarse, coarse_test=coarse,
                    coarse_classes=["low", "high"])
    tasks = build_suite({"dataset": "fake", "grouping": "superclasses", "tasks": 2, "class_order_seed": None,
                         "val_fraction": 0.1}, data)
    assert [t.classes for t in tasks] == [[0, 1, 2], [3, 4, 5]]
    assert [t.name for t in tasks] == ["low", "high"]


def test_image_shares_are_disjoint_stratified_and_cover_the_training_set(digits):
    spec = {"dataset": "digits", "grouping": "classes", "tasks": 1, "class_groups": [list(range(10))],
            "class_order_seed": 0, "val_fraction": 0.0}
    shares = [build_suite({**spec, "image_share": {"part": i, "parts": 3, "seed": 4}}, digits)[0] for i in range(3)]
    rows = [{tuple(x.flatten().tolist()) for x in t.train.x} for t in shares]
    assert all(not (rows[i] & rows[j]) for i in range(3) for j in range(i + 1, 3))
    assert sum(len(t.train) for t in shares) == len(digits.y_train)
    for t in shares:  # every class in every share, about a third of it
        counts = torch.bincount(t.train.y, minlength=10)
        full = np.bincount(digits.y_train, minlength=10)
        assert (counts.numpy() - full / 3).__abs__().max() <= 1
    again = build_suite({**spec, "image_share": {"part": 1, "parts": 3, "seed": 4}}, digits)[0]
    torch.testing.assert_close(again.train.x, shares[1].train.x)  # the seed alone fixes the draw
    assert len(shares[0].test) == len(digits.y_test)  # the test split is never cut
    with pytest.raises(UserError, match="part 3 is not in 0..2"):
        build_suite({**spec, "image_share": {"part": 3, "parts": 3}}, digits)

