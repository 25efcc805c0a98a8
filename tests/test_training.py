"""The command line, and the seed's headline result on real MNIST (slow)."""

import json
import subprocess
import sys

import pytest


def train_cli(tmp_path, *options):
    out = tmp_path / "result.json"
    run = subprocess.run([sys.executable, "-m", "nn", "train", "--quiet", "--json", str(out), *options],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return json.loads(out.read_text()), run


def test_cli_writes_the_promised_json(tmp_path):
    result, run = train_cli(tmp_path, "--layers", "784,20,10", "--iterations", "3", "--train-size", "2000",
                            "--sigmoid", "numexpr", "--no-recompute-sigmoid", "--seed", "1")
    assert "s/iteration" in run.stdout
    assert len(result["history"]) == 3
    assert {"train_accuracy", "cv_accuracy", "test_accuracy"} <= set(result["final"])
    assert result["seconds_per_iteration"] > 0
    assert result["options"]["sigmoid"] == "numexpr" and result["options"]["recompute_sigmoid"] is False
    blas = [lib for lib in result["environment"]["threadpool_info"] if lib["user_api"] == "blas"]
    assert blas and blas[0]["num_threads"] >= 1
    assert result["history"][-1]["cost"] < result["history"][0]["cost"]


def test_cli_reports_bad_input_in_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "nn", "train", "--data-dir", str(tmp_path / "missing")],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip().startswith("error:") and len(run.stderr.strip().splitlines()) == 1
    run = subprocess.run([sys.executable, "-m", "nn", "train", "--layers", "10,5,10", "--iterations", "1"],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "must start with 784" in run.stderr


@pytest.mark.slow
def test_seed_network_reaches_93_percent_after_50_cg_iterations(tmp_path):
    """The seed: [784, 300, 10], lmbda 5, 50 CG iterations on 50,000 examples, above 93% on cross-validation."""
    result, _ = train_cli(tmp_path, "--layers", "784,300,10", "--lmbda", "5", "--iterations", "50",
                          "--train-size", "50000", "--rung", "5-fused-buffers", "--seed", "0")
    print(json.dumps({k: result[k] for k in ("final", "seconds_per_iteration", "evaluations")}, indent=1))
    assert result["final"]["iterations"] == 50
    assert result["final"]["cv_accuracy"] >= 0.93
