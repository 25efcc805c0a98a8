"""Across the nodes of a Slurm cluster: one job-array task per node, each running the ordinary
pipeline (ensure the build through the shared cache, verify, then the command) into its own
result directory, followed with ``squeue``/``scontrol`` and merged with :mod:`blasbench.results.compare`.

Nothing is distributed by this project: Slurm places the tasks. The clone and the cache are
expected on a filesystem every node sees (the common HPC setup); the wheelhouse's keys include
the platform and the compilers, so a node of another architecture or toolchain builds its own.

    <results>/<job>/job.sbatch            the script as submitted (``sbatch`` it again to rerun)
    <results>/<job>/cluster.json          the job's options and its tasks' last known states
    <results>/<job>/<task>-<node>/        what that task's command wrote
    <results>/slurm-<job>_<task>.log      that task's output
    <results>/<job>/index.md, compare.*   the merged report
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .. import UserError
from ..facts import CHANGE_FACTOR
from ..results.compare import compare_dirs
from ..results.directory import Results
from ..results.kinds import KINDS, read_result, write_result
from ..results.kinds.cluster import task_directories
from ..store import atomic_write_text, one_writer

# The pipeline command a task runs -> the nox session that runs it, from the result kinds that say so.
COMMANDS = {kind.command: kind.session for kind in KINDS if kind.command}
FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "PREEMPTED", "BOOT_FAIL",
            "DEADLINE"}
SLURM_PACKAGES = "slurm-client (Debian/Ubuntu: `sudo apt-get install slurm-client`)"


@dataclass
class ClusterJob:
    """What was submitted, as the session's options said."""

    command: str
    arguments: list[str]
    nodes: int
    results: str
    repository: str
    python: str
    nodelist: list[str] | None = None
    # sbatch's own input variables (SBATCH_PARTITION, SBATCH_ACCOUNT, SBATCH_TIMELIMIT, ...) as submitted
    sbatch_environment: dict = field(default_factory=dict)
    job: str | None = None
    submitted_at: float | None = None
    tasks: dict = field(default_factory=dict)


def slurm(command: list[str]) -> str:
    """Run one of Slurm's commands; its refusal is one line, in its own words."""
    try:
        run = subprocess.run(command, capture_output=True, text=True)
    except FileNotFoundError:
        raise UserError(f"`{command[0]}` is not on PATH: install Slurm's client, {SLURM_PACKAGES}, "
                        "or load it (`module load slurm`).") from None
    if run.returncode != 0:
        errors = [line for line in run.stderr.splitlines() if line.strip()] or ["no message"]
        raise UserError(f"{command[0]} refused: {errors[0].removeprefix(f'{command[0]}: error: ')}")
    return run.stdout


def script(job: ClusterJob, exclude: list[str]) -> str:
    """The readable sbatch script: one array task per node, each the ordinary pipeline."""
    results = Path(job.results)
    directives = [f"--job-name=blasbench-{job.command}", f"--array=0-{job.nodes - 1}", "--nodes=1", "--exclusive",
                  f"--output={results}/slurm-%A_%a.log"]
    if exclude:  # an array cannot name a node per task: keep it to the nodes asked for
        directives.append(f"--exclude={','.join(exclude)}")
    session = COMMANDS[job.command]
    arguments = " ".join(shlex.quote(a) for a in job.arguments)
    return "\n".join([
        "#!/bin/bash",
        f"# blasbench `{job.command}` on {job.nodes} node(s): one array task per node, each the ordinary pipeline",
        "# (build through the shared cache, verify, then the command) into its own result directory.",
        "# Submitted by `python3 -m nox -s cluster`; `sbatch` this file to run it again"
        + (f", with {' '.join(f'{k}={shlex.quote(v)}' for k, v in sorted(job.sbatch_environment.items()))} set as then."
           if job.sbatch_environment else "."),
        *(f"#SBATCH {d}" for d in directives),
        "set -uo pipefail",
        'node="${SLURMD_NODENAME:-$(hostname -s)}"',
        f'out="{results}/$SLURM_ARRAY_JOB_ID/$SLURM_ARRAY_TASK_ID-$node"',
        'mkdir -p "$out"',
        "# a copy of the clone on the node's local disk, so that tasks never build in the shared tree at once",
        'work="${TMPDIR:-/tmp}/blasbench-$SLURM_ARRAY_JOB_ID-$SLURM_ARRAY_TASK_ID"',
        'mkdir -p "$work/clone"',
        f"tar -C {shlex.quote(job.repository)} --exclude=./.nox --exclude=./reports --exclude=./build -cf - . "
        '| tar -C "$work/clone" -xf -',
        'cd "$work/clone"',
        f'echo "blasbench task $SLURM_ARRAY_TASK_ID on $node ($(nproc) CPUs): {job.command} into $out"',
        f'{shlex.quote(job.python)} -m nox --envdir "$work/nox" -s {session} -- --results "$out" {arguments}'.rstrip(),
        'status=$?',
        'rm -rf "$work"',
        'exit $status',
        "",
    ])


def submit(job: ClusterJob) -> Path:
    """Write the script, submit it, and keep both beside the results; returns the job's directory."""
    results = Path(job.results)
    results.mkdir(parents=True, exist_ok=True)
    exclude = []
    if job.nodelist:
        partition = job.sbatch_environment.get("SBATCH_PARTITION")
        listing = slurm(["sinfo", "-h", "-N", "-o", "%N", *(["-p", partition] if partition else [])])
        known = list(dict.fromkeys(listing.split()))
        if unknown := [n for n in job.nodelist if n not in known]:
            raise UserError(f"no node {', '.join(unknown)} in {'partition ' + partition if partition else 'the cluster'}"
                            f": known are {', '.join(known)}.")
        exclude = [n for n in known if n not in job.nodelist]
    pending = results / f".job-{os.getpid()}.sbatch"
    atomic_write_text(pending, script(job, exclude))
    try:
        job.job = slurm(["sbatch", "--parsable", str(pending)]).strip().split(";")[0]
    except UserError:
        pending.unlink()
        raise
    job.submitted_at = time.time()
    directory = results / job.job
    directory.mkdir(parents=True, exist_ok=True)
    os.replace(pending, directory / "job.sbatch")
    save(job)
    print(f"submitted job {job.job}: {job.nodes} task(s) of `{job.command}`; script {directory / 'job.sbatch'}", flush=True)
    return directory


def save(job: ClusterJob) -> None:
    write_result(Path(job.results) / job.job / "cluster.json", {"kind": "cluster", **asdict(job)})


def load(results: Path, job_id: str) -> ClusterJob:
    path = Path(results) / job_id / "cluster.json"
    if not path.exists():
        raise UserError(f"no job {job_id} under {results} (no {path}): pass the job number `cluster` printed, "
                        "and the same --results.")
    data = read_result(path, "cluster")
    return ClusterJob(**{k: v for k, v in data.items() if k not in ("kind", "version")})


def task_states(job: ClusterJob) -> dict[str, dict]:
    """Every task's state: squeue for the pending and running ones, scontrol for those that
    ended (with their exit code); what Slurm has forgotten keeps its last known state."""
    states = {str(t): job.tasks.get(str(t), {"state": "UNKNOWN", "node": None}) for t in range(job.nodes)}
    live = {}
    for line in slurm(["squeue", "-h", "-r", "-j", job.job, "-o", "%K|%T|%N"]).splitlines():
        task, state, node = line.split("|")
        live.update({number: {"state": state, "node": node or None} for number in expand(task)})
    for number, state in states.items():
        if number in live:
            states[number] = live[number]
        elif state["state"] not in FINISHED and (record := show_task(job.job, number)):
            if record.get("JobState") in FINISHED:
                states[number] = {"state": record["JobState"], "node": record.get("NodeList"),
                                  "exit_code": int(record.get("ExitCode", "0:0").split(":")[0])}
    return states


def expand(tasks: str) -> list[str]:
    """squeue's array task ids: "3", or a pending range like "0-3" or "[0-1,4]"."""
    numbers = []
    for part in tasks.strip("[]").split(","):
        low, _, high = part.partition("-")
        numbers += [str(n) for n in range(int(low), int(high or low) + 1)] if low.isdigit() else []
    return numbers


def show_task(job_id: str, task: str) -> dict | None:
    """scontrol's record of one array task (Slurm keeps ended jobs for MinJobAge, 300 s by default)."""
    run = subprocess.run(["scontrol", "-o", "show", "job", f"{job_id}_{task}"], capture_output=True, text=True)
    if run.returncode != 0 or not run.stdout.strip():
        return None
    return dict(re.findall(r"(\w+)=(\S*)", run.stdout))


def slurmd_timeout() -> str:
    """How long Slurm waits for a node that stopped answering before it sets it DOWN (``SlurmdTimeout``)."""
    found = re.search(r"^SlurmdTimeout\s*=\s*(.+)$", slurm(["scontrol", "show", "config"]), re.MULTILINE)
    return found.group(1).strip() if found else "SlurmdTimeout"


def node_problems(nodes: list[str]) -> dict[str, str]:
    """node -> what Slurm says of it (state and reason), for each of ``nodes`` it marks down, draining,
    failing or not responding (sinfo's ``*``)."""
    found = {}
    for line in slurm(["sinfo", "-h", "-N", "-n", ",".join(nodes), "-o", "%N|%T|%E"]).splitlines():
        node, state, reason = line.split("|", 2)
        if state.endswith("*") or state.startswith(("down", "drain", "fail")):
            found[node] = f"{state} ({reason})" if reason and reason != "none" else state
    return found


def follow(job: ClusterJob, poll: float = 5.0) -> None:
    """Wait for every task to end, one line per change of a task's state, and one line when Slurm
    marks a task's node down or not responding (its state and reason: the task may sit in
    "completing" until Slurm gives up on the node). Ctrl-C stops waiting, never the job."""
    shown: dict[str, tuple] = {}
    said: dict[str, str] = {}
    ran_on: set[str] = set()  # every node a task of the job ran on: a task requeued off a lost node names it no more
    try:
        while True:
            states = task_states(job)
            ran_on |= {s["node"] for s in states.values() if s.get("node")}
            for node, problem in (node_problems(sorted(ran_on)) if ran_on else {}).items():
                if said.get(node) != problem:
                    waits = (f"; Slurm sets a node that stopped answering DOWN after SlurmdTimeout ({slurmd_timeout()}) "
                             "and ends its task" if problem.split(" ")[0].endswith("*") else "")
                    print(f"node {node}: {problem}, says Slurm{waits}", flush=True)
                    said[node] = problem
            for state in states.values():
                if state.get("node") in said:
                    state["node_problem"] = said[state["node"]]
            for number, state in sorted(states.items(), key=lambda item: int(item[0])):
                key = (state["state"], state.get("node"))
                if shown.get(number) != key:
                    code = f", exit code {state['exit_code']}" if "exit_code" in state else ""
                    print(f"task {number}: {state['state'].lower()}" + (f" on {state['node']}" if state.get("node") else "")
                          + code, flush=True)
                    shown[number] = key
            if states != job.tasks:
                job.tasks = states
                save(job)
            if all(state["state"] in FINISHED for state in states.values()):
                return
            time.sleep(poll)
    except KeyboardInterrupt:
        raise UserError(f"stopped waiting; job {job.job} goes on in Slurm. Follow and merge it later with "
                        f"`python3 -m nox -s cluster -- --resume {job.job} --results {job.results}`.") from None


def log_tail(job: ClusterJob, task: str, lines: int = 12) -> str:
    """The end of a task's log, once Slurm has finished writing it (it may lag the job's state)."""
    log = Path(job.results) / f"slurm-{job.job}_{task}.log"
    deadline, size = time.monotonic() + 10, -1
    while log.exists() and log.stat().st_size != size and time.monotonic() < deadline:
        size = log.stat().st_size
        time.sleep(0.5)
    if not log.exists():
        return f"(no log at {log})"
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def merge(job: ClusterJob, render: Callable[[Results], list[Path]], factor: float = CHANGE_FACTOR) -> Path:
    """compare over every task that left results; each task's node, CPU and BLAS (as its results
    recorded them) and, for a failed task, the tail of its log, kept in ``cluster.json``; then the
    reports, rendered from those results by ``render`` (the command's: ``report`` renders them again)."""
    directory = Path(job.results) / job.job
    found = task_directories(directory)
    measured = [path for path in found.values() if Results.load(path).environments()]
    for number, state in job.tasks.items():
        if state["state"] != "COMPLETED":  # the log may live where a re-render cannot see it: kept with the job
            state["log_tail"] = log_tail(job, number)
    with one_writer(directory, f"cluster merge of job {job.job}"):  # a second merge of the job waits
        save(job)
        if len(measured) >= 2:
            write_result(directory / "compare.json", compare_dirs(measured, factor))
        for path in render(Results.load(directory)):
            print(f"wrote {path}", flush=True)
    print(f"merged {len(measured)} of {job.nodes} task(s): {directory / 'index.md'}", flush=True)
    return directory


def run_cluster(job: ClusterJob | None, resume: str | None, results: Path, poll: float,
                render: Callable[[Results], list[Path]]) -> int:
    """Submit (or pick up ``resume``), follow until every task ended, merge and ``render``; non-zero when a
    task failed."""
    if resume:
        job = load(results, resume)
        print(f"resuming job {job.job} ({job.command} on {job.nodes} node(s)); nothing is submitted", flush=True)
    else:
        submit(job)
    if not all(state.get("state") in FINISHED for state in job.tasks.values()) or len(job.tasks) < job.nodes:
        follow(job, poll)
    merge(job, render)
    failed = {n: s for n, s in job.tasks.items() if s["state"] != "COMPLETED"}
    if failed:
        print("failed: " + "; ".join(f"task {n} on {s.get('node') or 'no node'} {s['state'].lower()}"
                                     + (f" (exit code {s['exit_code']})" if "exit_code" in s else "")
                                     + (f" (its node: {s['node_problem']})" if "node_problem" in s else "")
                                     for n, s in sorted(failed.items())), file=sys.stderr)
        return 1
    return 0
