"""``cluster.json``: a Slurm job's options and its tasks' last known states, with each task's own
results directory (``<task>-<node>/``) read beside it."""

from __future__ import annotations

from pathlib import Path

from . import Kind
from .release import across_nodes


class Cluster(Kind):
    name, file = "cluster", "cluster.json"
    required = ("job", "command", "tasks")

    def load(self, directory: Path) -> dict | None:
        """The job, and each task's results (``task_results``, by task number), each read once."""
        from ..directory import Results, task_directories

        job = super().load(directory)
        if job is None:
            return None
        return {**job, "task_results": {number: Results.load(path) for number, path in task_directories(directory).items()}}

    def analyse(self, job: dict) -> dict:
        """Each release step that changed a cell on some node, read within every node (a node's
        releases against each other only), so that the nodes can be compared step by step."""
        nodes = {job["tasks"].get(number, {}).get("node") or task.directory.name: task.findings["release"]
                 for number, task in sorted(job["task_results"].items(), key=lambda item: int(item[0]))
                 if task.findings.get("release") and task.findings["release"]["measured"]}
        return {"releases": across_nodes(nodes), "release_nodes": list(nodes)}


KIND = Cluster()
