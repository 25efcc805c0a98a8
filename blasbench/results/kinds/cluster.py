"""``cluster.json``: a Slurm job's options and its tasks' last known states, with each task's own
results directory (``<task>-<node>/``) read beside it."""

from __future__ import annotations

from pathlib import Path

from .base import Kind
from .release import across_nodes


def task_directories(job_directory: Path) -> dict[str, Path]:
    """A Slurm job's task directories (``<task>-<node>``), by task number."""
    return {path.name.split("-", 1)[0]: path for path in sorted(Path(job_directory).iterdir())
            if path.is_dir() and path.name.split("-", 1)[0].isdigit()}


# version 8's sbatch options, as the input environment variables sbatch reads
SBATCH_VARIABLES = {"partition": "SBATCH_PARTITION", "time": "SBATCH_TIMELIMIT", "account": "SBATCH_ACCOUNT",
                    "constraint": "SBATCH_CONSTRAINT"}


def _sbatch_environment(job: dict) -> dict:
    environment = {SBATCH_VARIABLES[name]: job[name] for name in SBATCH_VARIABLES if job.get(name)}
    return {**{k: v for k, v in job.items() if k not in SBATCH_VARIABLES}, "sbatch_environment": environment}


class Cluster(Kind):
    name, file = "cluster", "cluster.json"
    required = ("job", "command", "tasks")
    migrations = {9: _sbatch_environment}

    def nested(self, directory: Path) -> dict[str, Path]:
        """Each task's results directory, by task number."""
        return task_directories(directory)

    def gather(self, job: dict, nested: dict) -> dict:
        """The job with each task's results (``task_results``, by task number), each read once."""
        return {**job, "task_results": nested}

    def analyse(self, job: dict) -> dict:
        """Each release step that changed a cell on some node, read within every node (a node's
        releases against each other only), so that the nodes can be compared step by step."""
        nodes = {job["tasks"].get(number, {}).get("node") or task.directory.name: task.findings["release"]
                 for number, task in sorted(job["task_results"].items(), key=lambda item: int(item[0]))
                 if task.findings.get("release") and task.findings["release"]["measured"]}
        return {"releases": across_nodes(nodes), "release_nodes": list(nodes)}


KIND = Cluster()
