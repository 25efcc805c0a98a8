"""``cluster.json``: a Slurm job's options and its tasks' last known states."""

from __future__ import annotations

from . import Kind


class Cluster(Kind):
    name, file = "cluster", "cluster.json"
    required = ("job", "command", "tasks")


KIND = Cluster()
