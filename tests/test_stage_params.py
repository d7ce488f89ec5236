"""A stage's --params hold the keys its rule declares (workflow.cli.StageParams): reading another key stops the
job with the key's name instead of falling back on a default; saved artifacts hold them as a plain dict."""

from __future__ import annotations

import re

import pytest

from tests.conftest import REPO
from workflow.cli import StageParams, parser
from workflow.errors import UserError
from workflow.io import torch_load, torch_save


def test_declared_keys_read_as_a_dict():
    args = parser("t").parse_args(["--params", '{"train": {"epochs": 2}, "width": 0.5}'])
    assert isinstance(args.params, StageParams)
    assert args.params["train"]["epochs"] == 2 and args.params.get("width", 1.0) == 0.5
    assert "model" not in args.params and dict(args.params) == {"train": {"epochs": 2}, "width": 0.5}


@pytest.mark.parametrize("read", [lambda p: p["model"], lambda p: p.get("model", "small_cnn")])
def test_an_undeclared_key_stops_with_its_name(read):
    params = parser("t").parse_args(["--params", '{"width": 0.5}']).params
    with pytest.raises(UserError, match=r"config key 'model'.*stage_params"):
        read(params)


def test_params_must_be_an_object(capsys):
    with pytest.raises(SystemExit):
        parser("t").parse_args(["--params", "[1, 2]"])
    assert "--params" in capsys.readouterr().err


def test_saved_stage_params_are_plain(tmp_path):
    params = StageParams({"train": {"epochs": 2}})
    torch_save(tmp_path / "m.pt", {"config": params, "nested": [params]})
    back = torch_load(tmp_path / "m.pt")
    assert type(back["config"]) is dict and back == {"config": {"train": {"epochs": 2}},
                                                     "nested": [{"train": {"epochs": 2}}]}


def test_training_rules_pass_declared_keys_not_whole_sections():
    """Every training stage's --params is a stage_params(...) declaration; only collect rules (whose summary
    records the whole section's hash) and the baseline (whose section is exactly what it reads) pass a section."""
    whole = re.compile(r"method=(?:lambda wc: )?as_json\((?:config|PRIOR|sidetune_config)")
    for path in sorted((REPO / "rules").glob("*.smk")):
        for rule, body in re.findall(r"^(?:rule|checkpoint) (\w+):\n(.*?)(?=^\S|\Z)", path.read_text(), re.S | re.M):
            if whole.search(body):
                assert rule.endswith(("_collect", "_hypotheses")) or rule == "baseline_train", (path.name, rule)
