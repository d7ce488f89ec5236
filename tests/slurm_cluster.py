"""A real single-node SLURM cluster on localhost for the executor test (needs root and Debian's slurmctld,
slurmd, slurm-client and munge). Daemons run in the foreground of child processes, so their PIDs are known and
each one is stopped by PID. Two traps it avoids: slurm.conf must be at /etc/slurm/slurm.conf (the job step
drops SLURM_CONF), and without slurmdbd, job status must be polled with squeue and MinJobAge >= 3 x init."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
DAEMONS = ("munged", "slurmctld", "slurmd")
# The executor checks its jobs INIT_SECONDS after a job finished, then at intervals 10 s longer each time (the
# plugin's rule: with 1 s, checks at 1, 12, 33 s after a submission). A job of the test config takes 5-12 s under
# SLURM (it starts a Snakemake of its own), so most are seen finished at the second check: 12 s a job (16 s with 3,
# 26 s with 8). The test's 17 jobs run one after another: 197 s with 1, 263 s with 3, on an idle 2-core machine.
INIT_SECONDS = 1
# Flags for `snakemake --executor slurm` against this cluster.
SNAKEMAKE_FLAGS = ["--executor", "slurm", "--jobs", "4", "--default-resources", "slurm_partition=debug",
                   "--slurm-status-command", "squeue", "--slurm-init-seconds-before-status-checks", str(INIT_SECONDS),
                   "--latency-wait", "10"]


def missing_requirements() -> str | None:
    """Why this machine cannot run the cluster, or None."""
    if os.geteuid() != 0:
        return "needs root (munged, slurmd and /etc/slurm/slurm.conf)"
    absent = [d for d in ("munged", "slurmctld", "slurmd", "sinfo", "squeue", "sbatch") if not shutil.which(d)]
    if absent:
        return (f"Debian's SLURM packages are not installed ({', '.join(absent)} missing): "
                f"apt-get install slurmctld slurmd slurm-client munge")
    if SYSTEM_CONF.exists() and not SYSTEM_CONF.is_symlink():
        return f"{SYSTEM_CONF} belongs to a real SLURM installation; not touching it"
    return None


class SingleNodeSlurm:
    def __init__(self, state: Path):
        self.state = state
        self.procs: dict[str, subprocess.Popen] = {}

    # -- configuration -----------------------------------------------------------------------------------------
    def _write_config(self) -> Path:
        s = self.state
        for sub in ("etc", "state", "spool", "log", "run", "munge"):
            (s / sub).mkdir(parents=True, exist_ok=True)
        # munged wants every folder on its socket path searchable by all
        os.chmod(s, 0o755)
        os.chmod(s / "munge", 0o755)
        key = s / "munge" / "munge.key"
        key.write_bytes(os.urandom(1024))
        os.chmod(key, 0o400)
        host = socket.gethostname().split(".")[0]
        hw = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True).stdout
        cpus = int(re.search(r"CPUs=(\d+)", hw).group(1))
        mem = int(int(re.search(r"RealMemory=(\d+)", hw).group(1)) * 0.8)
        conf = s / "etc" / "slurm.conf"
        conf.write_text(f"""ClusterName=cllabtest
SlurmctldHost={host}(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={s}/munge/munge.socket
SlurmctldPort=16917
SlurmdPort=16918
StateSaveLocation={s}/state
SlurmdSpoolDir={s}/spool
SlurmctldPidFile={s}/run/slurmctld.pid
SlurmdPidFile={s}/run/slurmd.pid
SlurmctldLogFile={s}/log/slurmctld.log
SlurmdLogFile={s}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName={host} NodeAddr=127.0.0.1 NodeHostname={host} CPUs={cpus} RealMemory={mem} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
""")
        SYSTEM_CONF.parent.mkdir(parents=True, exist_ok=True)
        if SYSTEM_CONF.is_symlink():
            SYSTEM_CONF.unlink()
        SYSTEM_CONF.symlink_to(conf)
        return conf

    def _spawn(self, name: str, cmd: list[str]) -> None:
        log = open(self.state / "log" / f"{name}.out", "w")
        self.procs[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    @staticmethod
    def _wait(check, what: str, timeout: float = 30.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise RuntimeError(f"single-node SLURM: {what} did not come up within {timeout:.0f} s")

    # -- life cycle --------------------------------------------------------------------------------------------
    def start(self) -> "SingleNodeSlurm":
        conf = self._write_config()
        m = self.state / "munge"
        self._spawn("munged", ["munged", "-F", f"--socket={m}/munge.socket", f"--key-file={m}/munge.key",
                               f"--pid-file={self.state}/run/munged.pid", f"--log-file={self.state}/log/munged.log",
                               f"--seed-file={m}/munge.seed"])

        def munge_ok():
            enc = subprocess.run(["munge", "-S", f"{m}/munge.socket", "-n"], capture_output=True)
            return enc.returncode == 0 and subprocess.run(["unmunge", "-S", f"{m}/munge.socket"], input=enc.stdout,
                                                          capture_output=True).returncode == 0
        self._wait(munge_ok, "munged")
        self._spawn("slurmctld", ["slurmctld", "-D", "-f", str(conf)])
        self._wait(lambda: "UP" in subprocess.run(["scontrol", "ping"], capture_output=True, text=True).stdout,
                   "slurmctld")
        self._spawn("slurmd", ["slurmd", "-D", "-f", str(conf)])
        self._wait(lambda: subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True,
                                          text=True).stdout.strip() == "idle", "slurmd")
        return self

    def stop(self) -> None:
        """SIGTERM each daemon this object started (reverse order), wait up to 15 s, then SIGKILL that PID."""
        for name in reversed(DAEMONS):
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if SYSTEM_CONF.is_symlink() and str(os.readlink(SYSTEM_CONF)).startswith(str(self.state)):
            SYSTEM_CONF.unlink()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
