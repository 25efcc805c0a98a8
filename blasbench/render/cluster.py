"""<results>/<job>/index.md: a Slurm job's tasks, one per node, and where their comparison is."""

from __future__ import annotations

from ..results.directory import Results, task_directories
from ..results.identity import describe, identity
from .format import table

KINDS = ("cluster",)


def pages(results: Results, out) -> None:
    """The job's own index (each task's directory has its own reports)."""
    tasks = {number: Results.load(path) for number, path in task_directories(results.directory).items()}
    out.page("index.md", render_cluster(results["cluster"], tasks, compared=results["compare"] is not None))


def headline(results: Results) -> list[str]:
    return []


def task_cells(results: Results | None) -> list[str]:
    """A task's CPU, BLAS and results link, as its results recorded them."""
    envs = [env for _, env in results.environments()] if results else []
    if not envs:
        return ["–", "–", "no results"]
    ident = identity(envs[0])
    name = results.directory.name
    return [f"{ident['cpu']} ({ident['usable_cores']} cores)", describe("blas", ident["blas"]), f"[{name}]({name}/index.md)"]


def render_cluster(job: dict, tasks: dict[str, Results], compared: bool) -> str:
    """Each task's node, state, CPU and BLAS (``tasks``: its results directory, by task number),
    the end of each failed task's log (kept in ``cluster.json`` by the merge), and a link to the
    nodes' comparison."""
    rows = [[number, task.get("node") or "–",
             task["state"].lower() + (f" (exit {task['exit_code']})" if task.get("exit_code") else ""),
             *task_cells(tasks.get(number))]
            for number, task in sorted(job["tasks"].items(), key=lambda item: int(item[0]))]
    parts = [f"# Cluster job {job['job']}: `{job['command']}` on {job['nodes']} node(s)",
             f"Each task ran `{job['command']} {' '.join(job['arguments'])}`".rstrip() + " on one node, into its own "
             "directory. CPU and BLAS are as each task's results recorded them.",
             table(["task", "node", "state", "CPU", "BLAS", "results"], rows)]
    failed = [(n, t) for n, t in sorted(job["tasks"].items(), key=lambda item: int(item[0])) if t["state"] != "COMPLETED"]
    if failed:
        parts.append("## Tasks that did not complete")
        for number, task in failed:
            parts.append(f"Task {number} on {task.get('node') or 'no node'}: {task['state'].lower()}"
                         + (f", exit code {task['exit_code']}" if "exit_code" in task else "")
                         + f"; the end of its log:\n\n```\n{task.get('log_tail', '(not kept)')}\n```")
    parts.append("## Nodes side by side\n\n[compare.md](compare.md): every measure the nodes share, the first node as "
                 "the baseline, differences beyond the runs' noise flagged." if compared
                 else "Fewer than two tasks left results: nothing to compare.")
    return "\n\n".join(parts) + "\n"
