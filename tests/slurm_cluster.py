"""A real single-node Slurm for the tests: munged, slurmctld and slurmd from Debian's packages on localhost.

Everything lives in one temporary folder (config, state, spool, logs, pid files, the munge socket and key)
on free ports, so it does not touch /etc or a cluster that is already there. Facts behind the config:
../shared/notes/slurm.md (node line from `slurmd -C` with RealMemory lowered by 5%; socket folder 755 and
key folder 700 for munged; kill_invalid_depend in DependencyParameters; no cgroups, no slurmdbd).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

BINARIES = ("munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol", "scancel")


class SlurmUnavailable(Exception):
    """Slurm cannot run here; the message says why (the tests skip with it, loudly)."""


def _free_ports(n: int) -> list[int]:
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def _alive(pid: int) -> bool:
    """Running, not a zombie (a daemon that exited may stay a zombie until its reaper collects it)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


class SlurmCluster:
    def __init__(self, max_array_size: int = 1001):
        self.max_array_size = max_array_size
        self.dir: Path | None = None
        self.conf: Path | None = None
        self.env: dict[str, str] = {}
        self._pidfiles: list[Path] = []

    # ------------------------------------------------------------------------------------------- start
    def start(self) -> None:
        missing = [b for b in BINARIES if shutil.which(b) is None and not Path(f"/usr/sbin/{b}").exists()]
        if missing:
            raise SlurmUnavailable(
                f"Slurm/munge binaries not installed: {', '.join(missing)} "
                "(scripts/test.sh installs slurmctld slurmd slurm-client munge with apt-get)"
            )
        if os.geteuid() != 0:
            raise SlurmUnavailable(
                "the test cluster runs its daemons as root (SlurmUser=root); not root here"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="ct-slurm-"))
        d = self.dir
        d.chmod(0o755)
        for sub in ("state", "spool", "log"):
            (d / sub).mkdir()
        sock_dir = d / "munge-run"
        key_dir = d / "munge-key"
        sock_dir.mkdir(mode=0o755)
        key_dir.mkdir(mode=0o700)
        sock_dir.chmod(0o755)
        key_dir.chmod(0o700)
        key = key_dir / "munge.key"
        sock = sock_dir / "munge.socket"
        self._run(["mungekey", "-c", "-k", str(key)])
        munge_pid = sock_dir / "munged.pid"
        self._run(
            [
                "munged",
                f"--socket={sock}",
                f"--key-file={key}",
                f"--pid-file={munge_pid}",
                f"--log-file={d / 'log' / 'munged.log'}",
                f"--seed-file={key_dir / 'munged.seed'}",
                "--force",
            ]
        )
        self._pidfiles.append(munge_pid)

        node = self._node_line()
        ctld_port, slurmd_port = _free_ports(2)
        self.conf = d / "slurm.conf"
        self.conf.write_text(
            "\n".join(
                [
                    "ClusterName=corpustooltest",
                    "SlurmctldHost=localhost",
                    f"SlurmctldPort={ctld_port}",
                    f"SlurmdPort={slurmd_port}",
                    "SlurmUser=root",
                    "SlurmdUser=root",
                    "AuthType=auth/munge",
                    "CredType=cred/munge",
                    f"AuthInfo=socket={sock}",
                    f"StateSaveLocation={d / 'state'}",
                    f"SlurmdSpoolDir={d / 'spool'}",
                    f"SlurmctldPidFile={d / 'slurmctld.pid'}",
                    f"SlurmdPidFile={d / 'slurmd.pid'}",
                    f"SlurmctldLogFile={d / 'log' / 'slurmctld.log'}",
                    f"SlurmdLogFile={d / 'log' / 'slurmd.log'}",
                    "ProctrackType=proctrack/linuxproc",
                    "TaskPlugin=task/none",
                    "JobAcctGatherType=jobacct_gather/none",
                    "AccountingStorageType=accounting_storage/none",
                    "JobCompType=jobcomp/filetxt",
                    f"JobCompLoc={d / 'log' / 'jobcomp.log'}",
                    "SelectType=select/cons_tres",
                    "SelectTypeParameters=CR_Core",
                    "SchedulerParameters=batch_sched_delay=0,sched_min_interval=0",
                    "DependencyParameters=kill_invalid_depend",
                    "MpiDefault=none",
                    "ReturnToService=2",
                    "MinJobAge=3600",
                    "MailProg=/bin/true",
                    f"MaxArraySize={self.max_array_size}",
                    node,
                    "PartitionName=test Nodes=localhost Default=YES MaxTime=INFINITE State=UP",
                    "",
                ]
            ),
            encoding="utf-8",
        )
        self.env = {"SLURM_CONF": str(self.conf)}
        env = {**os.environ, **self.env}
        self._run(["slurmctld", "-f", str(self.conf)], env=env)
        self._pidfiles.insert(0, d / "slurmctld.pid")
        self._run(["slurmd", "-N", "localhost", "-f", str(self.conf)], env=env)
        self._pidfiles.insert(0, d / "slurmd.pid")
        self._wait_idle(env)

    def _node_line(self) -> str:
        out = self._run(["slurmd", "-C"]).stdout
        line = out.splitlines()[0]
        m = re.search(r"RealMemory=(\d+)", line)
        if not m:
            raise SlurmUnavailable(f"cannot read the node's memory from `slurmd -C`: {line}")
        mem = int(int(m.group(1)) * 0.95)
        line = re.sub(r"RealMemory=\d+", f"RealMemory={mem}", line)
        line = re.sub(r"^NodeName=\S+", "NodeName=localhost", line)
        return line + " State=UNKNOWN"

    def _run(self, args: list[str], env: dict | None = None) -> subprocess.CompletedProcess:
        try:
            proc = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise SlurmUnavailable(f"{args[0]} could not run: {e}") from e
        if proc.returncode != 0:
            raise SlurmUnavailable(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
        return proc

    def _wait_idle(self, env: dict, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        state = ""
        while time.time() < deadline:
            proc = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, env=env)
            state = proc.stdout.strip() + proc.stderr.strip()
            if proc.returncode == 0 and state.startswith("idle"):
                return
            time.sleep(0.3)
        raise SlurmUnavailable(
            f"the node did not become idle in {timeout:.0f} s (sinfo: {state!r}); logs in {self.dir / 'log'}"
        )

    # -------------------------------------------------------------------------------------------- stop
    @staticmethod
    def _terminate(pidfiles: list[Path], timeout: float = 10) -> None:
        pids = []
        for pidfile in pidfiles:
            try:
                pid = int(pidfile.read_text().strip())
                os.kill(pid, signal.SIGTERM)
                pids.append(pid)
            except (OSError, ValueError):
                continue
        deadline = time.time() + timeout
        for pid in pids:
            while time.time() < deadline and _alive(pid):
                time.sleep(0.05)
            if not _alive(pid):
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    def stop(self) -> None:
        if self.dir is None:
            return
        env = {**os.environ, **self.env}
        if self.conf is not None:
            subprocess.run(["scancel", "--user", "root", "--full"], capture_output=True, env=env, timeout=30)
            for _ in range(100):  # until no job is left, so that no slurmstepd outlives slurmd
                q = subprocess.run(["squeue", "-h"], capture_output=True, text=True, env=env, timeout=30)
                if q.returncode != 0 or not q.stdout.strip():
                    break
                time.sleep(0.1)
        # slurmd and slurmctld together, then munged (the Slurm daemons need it to shut down cleanly).
        self._terminate([p for p in self._pidfiles if p.name != "munged.pid"])
        self._terminate([p for p in self._pidfiles if p.name == "munged.pid"])
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None
