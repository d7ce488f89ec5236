"""Pre-flight checks, run by rules/common.smk while Snakemake reads the workflow, before any job: the config
(schema and cross-references), the output folders (writable, space; a dry run creates nothing) and the machine
(--cores against compute.threads, compute.device against what torch finds). A problem prints one line per
mistake with its fix and exits 1, without a traceback."""

from __future__ import annotations

import errno
import os
import shutil
import sys
import tempfile
from pathlib import Path

from .config import (SKIP_DEVICE_CHECK, config_errors, core_errors, device_errors, format_errors, load_schema,
                     normalize_config, reference_errors)


def check_config(config: dict, schema_path: Path) -> None:
    """The config against the schema and its cross-references; a user mistake exits 1 without a traceback."""
    schema = load_schema(schema_path)
    normalize_config(config, schema)
    errors = config_errors(config, schema) or reference_errors(config)
    if errors:
        # A plain message and exit status 1: a user mistake gets no traceback.
        print(format_errors(errors, "config/config.yaml and any --configfile/--config"), file=sys.stderr)
        sys.exit(1)



def check_output_folders(config: dict, min_free_mb: int = 200) -> None:
    """Fail early, with the fix, when an output folder cannot be written or its disk is nearly full. Nothing is
    created (a dry run leaves the tree as it was): a missing folder is judged by its nearest existing parent,
    where Snakemake will create it; a probe file is written and removed at once."""
    problems = []
    for folder in ("results", "logs", "benchmarks/rules", config["data"]["root"]):
        path = Path(folder)
        existing = path
        while not existing.exists() and existing != existing.parent:
            existing = existing.parent
        try:
            if not existing.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, f"'{existing}' is a file, not a folder")
            # a probe of this process's own: concurrent jobs (SLURM) must not remove each other's
            fd, probe = tempfile.mkstemp(prefix=".write-probe-", dir=existing)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            problems.append(f"cannot write to '{folder}/' ({exc.strerror or exc}): make it a writable folder "
                            f"(move away any file of that name) and rerun")
            continue
        free_mb = shutil.disk_usage(existing).free / 2**20
        if free_mb < min_free_mb:
            problems.append(f"only {free_mb:.0f} MB free for '{folder}/' (at least {min_free_mb} MB needed): "
                            f"free disk space and rerun")
    if problems:
        lines = "\n".join(f"  - {p}" for p in problems)
        print(f"Cannot start, nothing was run:\n{lines}", file=sys.stderr)
        sys.exit(1)



def snakemake_command_line():
    """Snakemake's own reading of this command line, profiles included, or None when Snakemake was not started
    from its command line. The Snakefile is read before Snakemake sets up its executor, so `workflow` cannot yet
    tell a dry run or a cluster run from a local run; the parsed arguments can."""
    argv0 = Path(sys.argv[0] if sys.argv else "")
    if argv0.name != "snakemake" and argv0.parent.name != "snakemake":
        return None
    try:
        import contextlib
        import io

        from snakemake.cli import parse_args

        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            return parse_args(sys.argv[1:])[1]
    except (Exception, SystemExit):
        return None


def runs_jobs_here(args):
    """Whether this command's jobs run on this machine (local executor), not on cluster nodes."""
    name = getattr(args, "executor", None) or "local"
    try:
        from snakemake_interface_executor_plugins.registry import ExecutorPluginRegistry

        return ExecutorPluginRegistry().get_plugin(name).common_settings.local_exec
    except Exception:
        return name == "local"


def check_machine(config: dict, workflow) -> None:
    """Before any job, in the main Snakemake process of a local run: --cores must fit a job (--cores 0 never
    does; fewer cores than compute.threads starves every training job), and compute.device: cuda needs a CUDA
    device here. A dry run is a plan, possibly for another machine: there the last two are printed as a note and
    only --cores below 1 stops it. Cluster runs (jobs on other nodes) and jobs themselves are not checked; set
    CL_LAB_SKIP_DEVICE_CHECK=1 to skip the device check."""
    if not getattr(workflow, "is_main_process", True):
        return
    args = snakemake_command_line()
    if args is None or not runs_jobs_here(args):
        return
    runs_jobs = not (getattr(args, "touch", False) or getattr(args, "report", None))
    threads, cores = config["compute"]["threads"], workflow.resource_settings.cores
    given = (args.cores is not None or args.jobs is not None) and cores is not None  # -n alone plans with 1 core
    stop = core_errors(cores, threads) if given and cores < 1 else []
    later = []  # what a run that starts jobs on this machine needs
    if runs_jobs and given and cores >= 1:
        later += core_errors(cores, threads)
    if runs_jobs and config["compute"]["device"] == "cuda" and os.environ.get(SKIP_DEVICE_CHECK) != "1":
        import torch

        later += device_errors("cuda", torch.cuda.is_available(), torch.version.cuda)
    if args.dryrun and later:
        lines = "\n".join(f"  - {p}" for p in later)
        print(f"Note: a real run of this plan on this machine would stop before any job:\n{lines}", file=sys.stderr)
    elif later:
        stop += later
    if stop:
        lines = "\n".join(f"  - {p}" for p in stop)
        print(f"Cannot start, nothing was run:\n{lines}", file=sys.stderr)
        sys.exit(1)
