"""<results>/<job>/index.md: a Slurm job's tasks, one per node, and where their comparison is."""

from __future__ import annotations

from ..results.directory import Results
from ..results.identity import describe, identity
from ..results.kinds import MEASURED
from ..results.kinds.release import AXES
from .format import table, times
from .releases import cell_name

KINDS = ("cluster",)


def pages(results: Results, out) -> None:
    """The job's own index (each task's directory has its own reports)."""
    out.page("index.md", render_cluster(results["cluster"], compared=results["compare"] is not None,
                                        found=results.findings["cluster"]))


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


def render_cluster(job: dict, compared: bool, found: dict) -> str:
    """Each task's node, state, CPU and BLAS (as its results directory, ``job["task_results"]``, recorded them),
    the end of each failed task's log (kept in ``cluster.json`` by the merge), a link to the
    nodes' comparison, and where the nodes ran a release axis, each step's effect node by node."""
    rows = [[number, task.get("node") or "–",
             task["state"].lower() + (f" (exit {task['exit_code']})" if task.get("exit_code") else ""),
             *task_cells(job["task_results"].get(number))]
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
    if found["release_nodes"]:
        parts += releases_by_node(found)
    return "\n\n".join(parts) + "\n"


def releases_by_node(found: dict) -> list[str]:
    """Each release step that changed a cell on some node, and what the same step did on each node:
    every verdict is one node's releases against each other, by the rule."""
    nodes = found["release_nodes"]
    parts = ["## Releases, node by node",
             f"Each node ran the release axis itself ({', '.join(nodes)}: each task's `setups.md`). Every step that "
             "changed a cell on some node, and what the same step did on each node, each verdict read within that node "
             "(its two releases against each other, by the rule for \"changed\"), never one node's release against "
             "another's."]
    if not found["releases"]:
        return parts + ["No step changed any cell beyond noise on any node."]

    def verdict(found_here: dict | None) -> str:
        if found_here is None:
            return "not measured"
        return found_here["verdict"] + (f" ({times(found_here['ratio'])})" if found_here["verdict"] != "no change" else "")

    rows = [[f"{AXES[r['axis']]} {MEASURED[r['measure']].point_title}",
             f"{cell_name(r, r['measure'])} at {r['threads']} thread(s)",
             f"{r['before']} → {r['after']}", *(verdict(r["nodes"][node]) for node in nodes)] for r in found["releases"]]
    agree = sum(len({(v or {}).get("verdict") for v in r["nodes"].values()}) == 1 for r in found["releases"])
    return parts + [table(["axis", "cell", "step", *nodes], rows),
                    f"The nodes agree on {agree} of {len(rows)} step(s); where they differ, the release's effect "
                    "depends on the node (its CPU, kernel set or load: each task's report names them)."]
