"""The command line, and the seed's headline result on real MNIST (slow)."""

import json
import subprocess
import sys

import pytest

from blasbench.results import seed


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
def test_at_50_cg_iterations_the_network_is_at_least_as_accurate_as_the_posts_own_code(tmp_path):
    """The post publishes no accuracy. Its own code (seed_figures.json: acroz/neuralnetwork at
    99f69b1), on this project's 50,000/10,000 split, reaches 0.9076 cross-validation accuracy after
    50 CG iterations; this implementation (seed 0) reached 0.9146 here. The test holds it to the
    reference at 50 iterations, and checks it was still learning there (better than at 40)."""
    reference = seed.reference_accuracy()
    iterations = reference["iterations"]
    result, _ = train_cli(tmp_path, "--layers", "784,300,10", "--lmbda", "5", "--iterations", str(iterations),
                          "--train-size", str(reference["train_size"]), "--rung", "5-fused-buffers", "--seed", "0")
    accuracy = {step["iteration"]: step["cv_accuracy"] for step in result["history"]}
    print(f"cv accuracy at {iterations}: {accuracy[iterations]:.4f} (the post's code: {reference['cv_accuracy']}), "
          f"at {iterations - 10}: {accuracy[iterations - 10]:.4f}; {result['seconds_per_iteration']:.2f} s/iteration")
    assert result["final"]["iterations"] == iterations
    assert accuracy[iterations] >= reference["cv_accuracy"]
    assert accuracy[iterations] > accuracy[iterations - 10]
