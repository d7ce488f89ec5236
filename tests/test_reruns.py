"""A stage receives only the config keys it reads (rules: stage_params), so Snakemake's params trigger reruns the
stages a change touches and nothing else. Dry runs on the session's finished test-config run (nothing is run)."""

from __future__ import annotations

import re

from tests.conftest import snakemake


def planned(workdir, *config: str) -> dict[str, list[str]]:
    """{rule: [the `reason:` line of each planned job]} of a dry run with ``--config`` values."""
    out = snakemake(workdir, "-n", "--cores", "2", "--configfile", "config/test.yaml", "--config", *config).stdout
    jobs: dict[str, list[str]] = {}
    for block in re.split(r"\n(?=(?:rule|checkpoint|localrule) \w+:)", out):
        head = re.match(r"(?:rule|checkpoint|localrule) (\w+):", block)
        if head:
            reason = re.search(r"reason: (.*)", block)
            jobs.setdefault(head.group(1), []).append(reason.group(1) if reason else "")
    return jobs


def test_nothing_to_do_without_a_change(test_config_run):
    assert planned(test_config_run("2"), "seeds=[0]") == {}


def test_prior_transfer_seeds_plan_no_pretrain_or_fit(test_config_run):
    """Pretraining and the SWAG fit read neither the transfer seeds nor the transfer settings."""
    jobs = planned(test_config_run("2"), 'prior={"seeds": [11, 12, 13]}')
    assert "prior_transfer" in jobs and "prior_collect" in jobs, jobs
    assert "prior_pretrain" not in jobs and "prior_fit" not in jobs, jobs
    jobs = planned(test_config_run("2"), 'prior={"transfer": {"steps": 7}}')
    assert "prior_transfer" in jobs and not {"prior_pretrain", "prior_fit"} & set(jobs), jobs


def test_cpg_retrain_schedule_plans_no_finetune_for_its_params(test_config_run):
    """Retraining reruns (CPG only, not PackNet); task 0's finetune, prune and choose stay; a later task's finetune
    reruns only because the network it starts from (the previous task's retrained one) changed, never for its
    params."""
    jobs = planned(test_config_run("2"), 'cpg={"retrain": {"patience": 7}}')
    assert jobs.get("cpg_retrain"), jobs
    params_changed = [(rule, r) for rule, reasons in jobs.items() for r in reasons if "Params have changed" in r]
    assert "cpg_retrain" in {rule for rule, _ in params_changed} <= {"cpg_retrain", "cpg_collect"}, params_changed
    assert len(jobs.get("cpg_finetune", [])) < len(jobs["cpg_retrain"]), jobs  # not task 0's
    assert all("Input files updated by another job" in r for r in jobs.get("cpg_finetune", [])), jobs
    assert not any(rule.startswith(("baseline", "sidetune", "prior", "subspace", "dpnas")) for rule in jobs), jobs


def test_lifelong_method_settings_rerun_only_that_method(test_config_run):
    """EWC's coefficient is read by EWC alone: the other lifelong methods and side-tuning's shared stages stay."""
    jobs = planned(test_config_run("2"), 'sidetune={"ewc": {"coef": 5.0}}')
    trained = {r for r in jobs if r.startswith("sidetune")}
    assert trained == {"sidetune_baseline_train", "sidetune_figure_final", "sidetune_figure_matrix",
                       "sidetune_figure_forgetting"}, jobs
    assert len(jobs["sidetune_baseline_train"]) == 1, jobs
