"""Each stage's interface is declared once, in its rule: the rule's named inputs, outputs, params and log reach its
script through Snakemake's ``script:`` as a :class:`workflow.stage.Job`, and one run context (workflow.stage.run)
sets up logging, the user-error exit and resume for every stage. A stage's params hold the keys its rule declares
(StageParams): reading another key stops the job with the key's name instead of falling back on a default; saved
artifacts hold them as a plain dict."""

from __future__ import annotations

import ast
import re
import textwrap

import pytest

from tests.conftest import REPO, snakemake
from workflow.errors import UserError
from workflow.io import torch_load, torch_save
from workflow.stage import Job, Named, StageParams, execute, files

RULE = re.compile(r"^(?:rule|checkpoint) (\w+):\n(.*?)(?=^\S|\Z)", re.S | re.M)


def rules() -> dict[str, tuple[str, str]]:
    """Every rule of rules/*.smk: name -> (file name, body)."""
    return {name: (path.name, body) for path in sorted((REPO / "rules").glob("*.smk"))
            for name, body in RULE.findall(path.read_text())}


# --- StageParams -------------------------------------------------------------------------------------------------

def test_declared_keys_read_as_a_dict():
    params = StageParams({"train": {"epochs": 2}, "width": 0.5})
    assert params["train"]["epochs"] == 2 and params.get("width", 1.0) == 0.5
    assert "model" not in params and dict(params) == {"train": {"epochs": 2}, "width": 0.5}


@pytest.mark.parametrize("read", [lambda p: p["model"], lambda p: p.get("model", "small_cnn")])
def test_an_undeclared_key_stops_with_its_name(read):
    with pytest.raises(UserError, match=r"config key 'model'.*stage_params"):
        read(StageParams({"width": 0.5}))


def test_saved_stage_params_are_plain(tmp_path):
    params = StageParams({"train": {"epochs": 2}})
    torch_save(tmp_path / "m.pt", {"config": params, "nested": [params]})
    back = torch_load(tmp_path / "m.pt")
    assert type(back["config"]) is dict and back == {"config": {"train": {"epochs": 2}},
                                                     "nested": [{"train": {"epochs": 2}}]}


def test_training_rules_pass_declared_keys_not_whole_sections():
    """Every training stage's params are a stage_params(...) declaration; only collect rules (whose summary
    records the whole section's hash) and the baseline (whose section is exactly what it reads) pass a section."""
    whole = re.compile(r"method=(?:lambda wc: )?(?:StageParams\()?(?:config|PRIOR|sidetune_config)\b")
    for rule, (path, body) in rules().items():
        if whole.search(body):
            assert rule.endswith(("_collect", "_hypotheses")) or rule == "baseline_train", (path, rule)


# --- declared once: every rule runs one script through script:, every script is a rule's -------------------------

def test_every_rule_runs_one_script_through_the_script_directive():
    """No rule spells its stage's arguments out in a shell command (which its script would declare a second time
    in an argument parser): each rule has a `script:` and neither `shell:` nor `run:`."""
    found = rules()
    assert len(found) >= 40
    for rule, (path, body) in found.items():
        assert re.search(r"^    script:\n\s+\"\.\./scripts/\w+\.py\"", body, re.M), (path, rule)
        assert not re.search(r"^    (shell|run):", body, re.M), (path, rule)


def test_every_script_is_a_main_of_a_job_and_parses_no_arguments():
    used = {m for _, body in rules().values() for m in re.findall(r"\.\./scripts/(\w+\.py)", body)}
    scripts = {p.name: p.read_text() for p in (REPO / "scripts").glob("*.py")}
    assert used == set(scripts), f"scripts no rule runs: {set(scripts) - used}; missing: {used - set(scripts)}"
    for name, text in scripts.items():
        tree = ast.parse(text)
        calls = {ast.unparse(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        assert "run" in calls and "run(main, snakemake)" in text, f"{name} does not end in workflow.stage.run"
        assert not {"argparse", "sys.argv", "resolve_device"} & ({*calls} | set(re.findall(r"argparse|sys\.argv",
                                                                                        text))), name
        mains = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "main"]
        assert mains and [a.arg for a in mains[0].args.args] == ["job"], f"{name}: main(job)"
        assert "remove_checkpoint" not in text, f"{name} removes its own resume file (the run context does)"


# --- the job a rule describes, the run context ----------------------------------------------------------------------

SNAKEFILE = '''
rule stage:
    input:
        data="in/data.txt",
        models=["in/a.txt", "in/b.txt"],
        optional=lambda wc: ["in/start.txt"] if wc.task == "1" else [],
    output:
        out="out/{task}/result.json",
    params:
        method=lambda wc: StageParams({"fail": wc.task == "2", "width": 0.5}),
        title=lambda wc: f"task {wc.task}",
    log:
        "logs/stage/{task}.log",
    script:
        "stage.py"
'''

SCRIPT = '''
import json
from workflow.errors import UserError
from workflow.stage import run

def main(job):
    resume = job.resume_file()
    resume.write_text("state")
    if job.params.method["fail"]:
        raise UserError("the goal is unreachable: lower cpg.allowed_loss")
    job.output.out.write_text(json.dumps({
        "inputs": [str(p) for p in job.input], "data": str(job.input.data), "models": [str(p) for p in job.input.models],
        "optional": "optional" in job.input.names and [str(p) for p in job.input.optional],
        "title": job.params.title, "width": job.params.method["width"], "task": job.wildcards.task,
        "seed": job.seed, "log": str(job.log), "resume": str(resume)}))

if __name__ == "__main__":
    run(main, snakemake)
'''


@pytest.fixture
def stage_workdir(tmp_path):
    (tmp_path / "in").mkdir()
    for name in ("data", "a", "b", "start"):
        (tmp_path / "in" / f"{name}.txt").write_text(name)
    (tmp_path / "Snakefile").write_text("from workflow.stage import StageParams\n" + SNAKEFILE)
    (tmp_path / "stage.py").write_text(SCRIPT)
    return tmp_path


def test_a_rules_declaration_reaches_its_script_as_a_job(stage_workdir):
    import json

    snakemake(stage_workdir, "--cores", "1", "out/0/result.json", "out/1/result.json")
    job0 = json.loads((stage_workdir / "out/0/result.json").read_text())
    assert job0 == {"inputs": ["in/data.txt", "in/a.txt", "in/b.txt"], "data": "in/data.txt",
                    "models": ["in/a.txt", "in/b.txt"], "optional": [], "title": "task 0", "width": 0.5,
                    "task": "0", "seed": 0, "log": "logs/stage/0.log", "resume": "out/0/.resume.pt"}
    job1 = json.loads((stage_workdir / "out/1/result.json").read_text())
    assert job1["optional"] == ["in/start.txt"] and job1["inputs"][-1] == "in/start.txt"
    for task in ("0", "1"):  # the resume file is gone once the job succeeded; the log says it finished
        assert not (stage_workdir / f"out/{task}/.resume.pt").exists()
        assert (stage_workdir / f"logs/stage/{task}.log").read_text().rstrip().endswith("done")


def test_a_user_error_ends_the_job_with_its_message_and_keeps_the_resume_file(stage_workdir):
    proc = snakemake(stage_workdir, "--cores", "1", "out/2/result.json", check=False)
    assert proc.returncode != 0
    log = (stage_workdir / "logs/stage/2.log").read_text()
    assert "ERROR" in log and "the goal is unreachable: lower cpg.allowed_loss" in log and "Traceback" not in log
    assert (stage_workdir / "out/2/.resume.pt").read_text() == "state"  # kept for the next attempt
    assert not (stage_workdir / "out/2/result.json").exists()


def test_execute_is_the_run_context_in_process(tmp_path):
    """What tests use: the same context (seed, threads, device for a stage with compute; resume removal)."""
    seen = {}

    def main(job):
        import torch

        job.resume_file().write_text("x")
        seen.update(device=str(job.device), threads=torch.get_num_threads(), seed=job.seed, draw=torch.rand(1))

    def job():
        return Job(output=files(out=tmp_path / "out.json"), params=Named({"compute": {"device": "cpu", "threads": 1}}),
                   wildcards=Named({"seed": "3"}))

    execute(main, job())
    first = seen["draw"]
    assert seen["device"] == "cpu" and seen["threads"] == 1 and seen["seed"] == 3
    assert not (tmp_path / ".resume.pt").exists()
    execute(main, job())
    assert seen["draw"].equal(first)  # seeded from the seed wildcard


def test_a_missing_name_says_what_the_rule_declares():
    with pytest.raises(AttributeError, match=r"declares no 'model' \(it has: data, base\)"):
        files(data="d", base="b").model
