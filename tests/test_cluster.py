"""Many machines through Slurm: the script, the errors, and (slow) a real two-node cluster."""

import json
import os
import time
from pathlib import Path

import pytest
from slurm import Cluster

from blasbench.cli import main
from blasbench.measuring.cluster import ClusterJob, expand, script

ROOT = Path(__file__).resolve().parent.parent
# Small real work for each node (the two nodes share this machine's cores, hence --allow-busy): a map of
# two calls at two sizes, and a function of the user's swept at one and two threads.
THREADMAP = ["threadmap", "--calls", "solve", "a @ b", "--sizes", "4", "256", "--threads", "1,2", "--rounds", "1",
             "--allow-busy"]
FUNCTION = ["scaling", "--workload", "examples/small_solves.py:solve_many", "--workload-args", '{"count": 50}',
            "--quick", "--allow-busy"]


def test_the_script_is_a_readable_array_of_one_exclusive_node_per_task(tmp_path):
    job = ClusterJob(command="bench", arguments=["--train-size", "2000"], nodes=3, results=str(tmp_path),
                     repository=str(ROOT), python="/opt/venv/bin/python",
                     sbatch_environment={"SBATCH_PARTITION": "short", "SBATCH_TIMELIMIT": "00:30:00"})
    text = script(job, exclude=["node9"])
    for line in ("#SBATCH --array=0-2", "#SBATCH --nodes=1", "#SBATCH --exclusive", "#SBATCH --exclude=node9",
                 f"#SBATCH --output={tmp_path}/slurm-%A_%a.log"):
        assert line in text.splitlines()
    # sbatch's own input variables choose the partition and the rest, and the script says which were set
    assert "set as then" in text and "SBATCH_PARTITION=short SBATCH_TIMELIMIT=00:30:00" in text
    assert "--partition" not in text
    assert f'out="{tmp_path}/$SLURM_ARRAY_JOB_ID/$SLURM_ARRAY_TASK_ID-$node"' in text
    assert '/opt/venv/bin/python -m nox --envdir "$work/nox" -s bench -- --results "$out" --train-size 2000' in text


def test_pending_array_ranges_expand_to_their_tasks():
    assert expand("[0-2,5]") == ["0", "1", "2", "5"] and expand("3") == ["3"]


def test_without_sbatch_the_message_names_the_package(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert main(["cluster", "--results", str(tmp_path), "bench"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: `sbatch` is not on PATH: install Slurm's client, slurm-client (Debian/Ubuntu: "
                   "`sudo apt-get install slurm-client`), or load it (`module load slurm`)."]


@pytest.fixture(scope="module")
def slurm_cluster(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("starting Slurm's daemons needs root")
    cluster = Cluster(tmp_path_factory.mktemp("slurm"))
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def on_cluster(slurm_cluster, monkeypatch):
    monkeypatch.setenv("SLURM_CONF", str(slurm_cluster.conf))
    monkeypatch.chdir(ROOT)
    return slurm_cluster


@pytest.mark.slow
def test_a_job_on_two_nodes_is_merged_and_resumed_without_resubmitting(on_cluster, tmp_path, capsys):
    started = time.monotonic()
    assert main(["cluster", "--nodes", "2", "--poll", "1", "--results", str(tmp_path), *THREADMAP]) == 0
    elapsed = time.monotonic() - started
    out = capsys.readouterr().out
    [job] = [p.name for p in tmp_path.iterdir() if p.is_dir()]
    print(f"submit to merged report on two nodes: {elapsed:.0f} s")
    directory = tmp_path / job
    index = (directory / "index.md").read_text()
    assert "| 0 | node" in index and "| 1 | node" in index and {"node1", "node2"} <= set(index.replace("|", " ").split())
    assert (directory / "job.sbatch").exists()
    mapped = [p for p in directory.iterdir() if (p / "threadmap.md").exists()]
    assert len(mapped) == 2 and all((p / "build.md").exists() for p in mapped)  # every node mapped, its build named
    merged = (directory / "compare.md").read_text()
    assert "Threading map (seconds per call)" in merged and "`solve` float64 n = 256" in merged
    assert "task 0: running on node" in out and "task 1: completed" in out
    script_written = (directory / "job.sbatch").stat().st_mtime_ns
    assert main(["cluster", "--resume", job, "--results", str(tmp_path)]) == 0
    assert "nothing is submitted" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir() if p.is_dir()] == [job]
    assert (directory / "job.sbatch").stat().st_mtime_ns == script_written


@pytest.mark.slow
def test_a_node_without_compilers_fails_its_task_and_the_other_is_kept(on_cluster, tmp_path, capsys):
    (on_cluster.root / "break-node2").touch()
    try:
        code = main(["cluster", "--nodes", "2", "--poll", "1", "--results", str(tmp_path), *FUNCTION])
    finally:
        (on_cluster.root / "break-node2").unlink()
    assert code == 1
    assert "on node2 failed (exit code 1)" in capsys.readouterr().err  # nox exits 1 when its session fails
    [job] = [p for p in tmp_path.iterdir() if p.is_dir()]
    index = (job / "index.md").read_text()
    assert "failed (exit 1)" in index and "CC=/nonexistent/cc: no such compiler on this machine" in index
    completed = [p for p in job.iterdir() if p.is_dir() and (p / "scaling.json").exists()]
    assert len(completed) == 1 and completed[0].name.endswith("-node1")
    sweep = json.loads((completed[0] / "scaling.json").read_text())
    assert sweep["settings"]["workload"]["spec"] == "examples/small_solves.py:solve_many"
    assert all("verdict" in point["answer"] for point in sweep["points"])


@pytest.mark.slow
def test_slurms_own_refusal_is_one_line(on_cluster, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("SBATCH_PARTITION", "nope")  # sbatch's own way to name a partition
    assert main(["cluster", "--results", str(tmp_path), "bench"]) == 2
    assert capsys.readouterr().err.strip() == "error: sbatch refused: invalid partition specified: nope"
    assert not list(tmp_path.glob("*.sbatch")) and not list(tmp_path.glob(".*.sbatch"))


@pytest.mark.slow
@pytest.mark.all_providers  # CI's tier has a failing node (no compilers) above and the down-node message's quick test
def test_a_node_slurm_takes_out_of_service_mid_task_is_named_with_its_state_and_reason(on_cluster, tmp_path, capsys):
    """node2 drained (scontrol, as an administrator or Slurm's health check would) while its task runs:
    the wait names the node, its state and Slurm's reason at once, and the job still ends merged."""
    import subprocess
    import threading

    reason = "blasbench test: disk errors"

    def drain_node2_once_it_runs() -> None:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            queue = subprocess.run(["squeue", "-h", "-r", "-o", "%T|%N"], env=on_cluster.env, capture_output=True, text=True)
            if "RUNNING|node2" in queue.stdout.split():
                subprocess.run(["scontrol", "update", "NodeName=node2", "State=DRAIN", f"Reason={reason}"],
                               env=on_cluster.env, check=True)
                return
            time.sleep(0.5)

    drainer = threading.Thread(target=drain_node2_once_it_runs)
    drainer.start()
    try:
        code = main(["cluster", "--nodes", "2", "--poll", "1", "--results", str(tmp_path), *THREADMAP])
    finally:
        drainer.join()
        subprocess.run(["scontrol", "update", "NodeName=node2", "State=RESUME"], env=on_cluster.env, check=True)
    out = capsys.readouterr().out
    assert code == 0
    assert f"node node2: draining ({reason}), says Slurm" in out or f"node node2: drained ({reason}), says Slurm" in out
    [job] = [p for p in tmp_path.iterdir() if p.is_dir()]
    assert len([p for p in job.iterdir() if (p / "threadmap.json").exists()]) == 2


def test_a_node_that_stopped_answering_is_named_with_how_long_slurm_waits(monkeypatch):
    """sinfo's `*` (not responding) and DOWN: each named with its reason, the not-responding one with
    SlurmdTimeout as `scontrol show config` gives it; nodes in service are not named."""
    from blasbench.measuring import cluster

    answers = {"sinfo": "node1|allocated|none\nnode2|mixed*|none\nnode3|down*|Not responding\n",
               "scontrol": "SlurmctldTimeout        = 120 sec\nSlurmdTimeout           = 300 sec\n"}
    monkeypatch.setattr(cluster, "slurm", lambda command: answers[command[0]])
    assert cluster.node_problems(["node1", "node2", "node3"]) == {"node2": "mixed*", "node3": "down* (Not responding)"}
    assert cluster.slurmd_timeout() == "300 sec"


@pytest.mark.slow
def test_each_node_maps_the_numpy_release_axis_itself(on_cluster, tmp_path, capsys):
    """`cluster threadmap --setup pypi:2.4.6`: every node makes (or, the other holding the lock, waits for)
    the release's environment in the shared cache and maps it; each node's setups.md reads the axis on
    that node alone, and the job's index reads each step node by node."""
    assert main(["cluster", "--nodes", "2", "--poll", "1", "--results", str(tmp_path), "threadmap", "--setup",
                 "pypi:2.4.6+numpy-only", "--calls", "solve", "--sizes", "64", "--threads", "1,2", "--rounds", "1",
                 "--allow-busy"]) == 0
    [job] = [p for p in tmp_path.iterdir() if p.is_dir()]
    tasks = [p for p in job.iterdir() if p.is_dir() and (p / "setups.md").exists()]
    assert len(tasks) == 2
    for task in tasks:
        record = json.loads((task / "releases" / "numpy-2.4.6" / "release.json").read_text())
        assert record["installed"]["numpy"] == "2.4.6" and "error" not in record
        assert "1 NumPy release(s) mapped as PyPI's wheels" in (task / "index.md").read_text()
    index = (job / "index.md").read_text()  # the job's: the axis read node by node, one release: no step
    assert "## Releases, node by node" in index and "No step changed any cell beyond noise on any node." in index
