"""The benchmark and its peers: same network, same numbers, rendered from bench.json."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import group

from blasbench.measuring.bench import run_bench
from blasbench.measuring.peers import TorchNetwork, torch_installed
from blasbench.render import render_all
from blasbench.render.bench import render_bench
from blasbench.results.directory import Results
from blasbench.results.kinds import write_result
from nn.network import Network, one_hot
from nn.options import RUNGS


def test_bench_measures_rungs_against_dgemm_and_renders(tmp_path, capsys):
    result = run_bench(["5-fused-buffers", "6-data-parallel"], train_size=1000, repeats=2, dgemm_size=128)
    assert {(row["rung"], row["threads"]) for row in result["rows"]} >= {("6-data-parallel", 1)}
    assert all(row["gflops"] > 0 and row["share_of_dgemm"] > 0 for row in result["rows"])
    assert result["peers"] == {} and result["identity"]["wheels"]["numpy"]
    write_result(tmp_path / "bench.json", result)
    render_all(Results.load(tmp_path))
    text = (tmp_path / "bench.md").read_text()
    assert "| 6-data-parallel float64 (1 chunks) |" in text and "PyTorch: not measured" in text
    assert "[Bench](bench.md): the fastest rung at " in (tmp_path / "index.md").read_text()


def test_a_missing_pytorch_is_said_so():
    result = {"layers": [784, 300, 10], "train_size": 10, "repeats": 1, "product_flops": 1e9, "dgemm_size": 64,
              "dgemm_repeats": 3, "rows": [], "peers": {"torch": None}}
    assert "PyTorch: not installed" in render_bench(result)


@pytest.fixture(scope="module")
def torch_peer():
    """PyTorch, installed into this environment when pip can (the peers group); else skipped."""
    if not torch_installed():
        install = subprocess.run([sys.executable, "-m", "pip", "install", "-q", *group("peers")],
                                 capture_output=True, text=True)
        if install.returncode != 0:
            pytest.skip(f"pip cannot install torch here: {install.stderr.strip().splitlines()[-1:]}")


@pytest.mark.slow
def test_pytorch_computes_the_same_cost_and_gradient(torch_peer, mnist_small):
    train_set, _ = mnist_small
    X, Y = train_set.X, one_hot(train_set.y, 10)
    network = Network([784, 30, 10], 5.0, RUNGS["5-fused-buffers"], seed=0)
    J, g = network.cost_and_gradient(network.theta, X, Y)
    J64, g64 = TorchNetwork(network, X, Y, "float64").cost_and_gradient()
    assert abs(J64 - J) <= 1e-12 * abs(J)
    np.testing.assert_allclose(g64, g, rtol=0, atol=1e-12 * np.abs(g).max())
    J32, g32 = TorchNetwork(network, X, Y, "float32").cost_and_gradient()
    assert abs(J32 - J) <= 1e-5 * abs(J)
    np.testing.assert_allclose(g32, g, rtol=0, atol=1e-4 * np.abs(g).max())


@pytest.mark.slow
def test_bench_measures_pytorch_beside_the_rungs(torch_peer, tmp_path):
    result = run_bench(["6-data-parallel"], train_size=2000, repeats=2, dgemm_size=128, peers=["torch"],
                       dtypes=["float64", "float32"])
    peers = {row["peer"] for row in result["rows"] if row.get("peer")}
    assert peers == {"PyTorch float64", "PyTorch float32"}
    # the peer in the precisions asked of the rungs, no other (float32 was once measured regardless)
    alone = run_bench(["6-data-parallel"], train_size=2000, repeats=1, dgemm_size=128, peers=["torch"], dtypes=["float64"])
    assert {row["dtype"] for row in alone["rows"]} == {"float64"}
    assert result["peers"]["torch"]["version"].startswith("2.")
    text = render_bench(result)
    assert "time / PyTorch float64" in text and "| PyTorch float64 |" in text and "1.00x" in text


@pytest.mark.slow
def test_torch_trained_network_follows_the_same_cg_path(torch_peer, mnist_small):
    """The sweep's peer: SciPy's CG on PyTorch's cost and gradient takes the same steps as on the rung's."""
    from blasbench.measuring.peers import trained_network
    from nn.train import train

    train_set, cv_set = mnist_small
    ours = Network([784, 30, 10], 5.0, RUNGS["5-fused-buffers"], seed=0)
    peer = trained_network("torch")([784, 30, 10], 5.0, RUNGS["5-fused-buffers"], seed=0)
    costs = [[step.cost for step in train(net, train_set, 5, cv_set, cv_every=0).history] for net in (ours, peer)]
    np.testing.assert_allclose(costs[1], costs[0], rtol=1e-9)
    assert peer.describe()["peer"]["version"].startswith("2.")


@pytest.mark.slow
def test_scaling_sweeps_pytorch_beside_the_rungs(torch_peer, tmp_path):
    from blasbench.measuring.sweep import ScalingSettings, Workload, run_scaling

    settings = ScalingSettings(rungs=("5-fused-buffers", "torch"), threads=(1,), repeats=1,
                               workload=Workload(iterations=2, train_size=2000), warmup=False)
    result = run_scaling(settings, tmp_path / "scaling.json")
    by_rung = {p["rung"]: p for p in result["points"]}
    assert set(by_rung) == {"5-fused-buffers", "torch"} and not result["refused"]
    # the same start and the same CG: the same accuracy
    assert by_rung["torch"]["cv_accuracy"] == pytest.approx(by_rung["5-fused-buffers"]["cv_accuracy"], abs=1e-3)
    render_all(Results.load(tmp_path))
    assert "## `torch` (peer:" in (tmp_path / "scaling.md").read_text()
