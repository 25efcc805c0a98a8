"""A real Slurm cluster on this machine for the tests: munged, slurmctld and two slurmd
processes as two nodes on 127.0.0.1, no systemd, no cgroups, no accounting; every daemon
stopped by its PID afterwards."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

PACKAGES = ["slurmctld", "slurmd", "slurm-client", "munge"]
NODES = ("node1", "node2")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def install() -> None:
    """Debian's Slurm 22.05 and munge, when missing; services are not started by the install."""
    if all(shutil.which(name) for name in ("slurmctld", "slurmd", "sbatch", "munged")):
        return
    deny = Path("/usr/sbin/policy-rc.d")
    added = not deny.exists()
    if added:  # keep the packages' init scripts from starting daemons
        deny.write_text("#!/bin/sh\nexit 101\n")
        deny.chmod(0o755)
    try:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends", *PACKAGES], env=env, check=True,
                       capture_output=True)
    finally:
        if added:
            deny.unlink()


def pid_of(path: Path) -> int | None:
    try:
        pid = int(path.read_text().split()[0])
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError, IndexError):
        return None


class Cluster:
    def __init__(self, root: Path):
        self.root = root
        self.conf = root / "slurm.conf"
        self.prolog = root / "task-prolog.sh"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.pids: list[Path] = []
        self.started_munged = False

    def write_config(self) -> None:
        (self.root / "state").mkdir(parents=True, exist_ok=True)
        cpus = os.cpu_count() or 1
        # A real mechanism to make one node lack what builds need: the task prolog exports a
        # compiler that does not exist on node2 while the file `break-node2` exists.
        self.prolog.write_text(f'#!/bin/sh\nif [ "$SLURMD_NODENAME" = node2 ] && [ -e {self.root}/break-node2 ]; then\n'
                               '  echo "export CC=/nonexistent/cc"\nfi\n')
        self.prolog.chmod(0o755)
        r = self.root
        lines = [
            "ClusterName=blasbench-test", "SlurmctldHost=localhost", f"SlurmctldPort={free_port()}",
            "SlurmUser=root", "AuthType=auth/munge", f"StateSaveLocation={r}/state",
            f"SlurmdSpoolDir={r}/spool-%n", f"SlurmctldPidFile={r}/slurmctld.pid", f"SlurmdPidFile={r}/slurmd-%n.pid",
            f"SlurmctldLogFile={r}/slurmctld.log", f"SlurmdLogFile={r}/slurmd-%n.log",
            "ProctrackType=proctrack/linuxproc", "TaskPlugin=task/none", "JobAcctGatherType=jobacct_gather/none",
            "AccountingStorageType=accounting_storage/none", "SelectType=select/cons_tres",
            "SelectTypeParameters=CR_Core", "ReturnToService=2", "MailProg=/bin/true", "MpiDefault=none",
            f"TaskProlog={self.prolog}",
            *(f"NodeName={node} NodeHostname=localhost Port={free_port()} CPUs={cpus} State=UNKNOWN" for node in NODES),
            f"PartitionName=debug Nodes={','.join(NODES)} Default=YES MaxTime=INFINITE State=UP",
        ]
        self.conf.write_text("\n".join(lines) + "\n")

    def start(self) -> None:
        install()
        self.write_config()
        munge_pid = Path("/run/munge/munged.pid")
        if pid_of(munge_pid) is None:
            subprocess.run(["install", "-d", "-o", "munge", "-g", "munge", "-m", "0755", "/run/munge"], check=True)
            subprocess.run(["runuser", "-u", "munge", "--", "/usr/sbin/munged"], check=True)
            self.started_munged = True
        subprocess.run(["slurmctld", "-f", str(self.conf)], env=self.env, check=True)
        self.pids.append(self.root / "slurmctld.pid")
        for node in NODES:
            subprocess.run(["slurmd", "-f", str(self.conf), "-N", node], env=self.env, check=True)
            self.pids.append(self.root / f"slurmd-{node}.pid")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            states = subprocess.run(["sinfo", "-h", "-N", "-o", "%N %t"], env=self.env, capture_output=True,
                                    text=True).stdout.split("\n")
            if sum(1 for line in states if line.endswith(" idle")) == len(NODES):
                return
            time.sleep(0.2)
        raise RuntimeError(f"the Slurm nodes did not come up: {states}; see {self.root}")

    def stop(self) -> None:
        for path in reversed(self.pids):
            if pid := pid_of(path):
                os.kill(pid, 15)
        if self.started_munged and (pid := pid_of(Path("/run/munge/munged.pid"))):
            os.kill(pid, 15)
