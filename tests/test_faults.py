"""Bad input and faults: each gets a one- or two-line message saying what is wrong and how to fix
it, never a traceback, and nothing already measured is lost or rewritten."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from blasbench.cli import main
from blasbench.results.kinds import RESULT_VERSION

DATA = Path(__file__).resolve().parent / "data"
ROOT = Path(__file__).resolve().parent.parent

# (arguments, a fragment of the message); RESULTS stands for a directory holding measured results.
CLI_FAULTS = [
    (["scaling", "--iterations", "-1"], "--iterations: -1 is not positive"),
    (["scaling", "--iterations", "0"], "--iterations: 0 is not positive"),
    (["scaling", "--train-size", "0"], "--train-size: 0 is not positive"),
    (["scaling", "--repeats", "0"], "--repeats: 0 is not positive"),
    (["scaling", "--threads", "1,x"], "'1,x' is not a list of thread counts like 1,2,4 (one or more, spaced or comma-separated)"),
    (["threadmap", "--sizes", "8,64,x"], "'8,64,x' is not a list of sizes (one or more, spaced or comma-separated)"),
    (["threadmap", "--calls", "solve,qr"], "invalid choice: 'qr'"),
    (["scaling", "--threads", "0,1"], "thread counts must be 1 or more"),
    (["scaling", "--rungs", "9-nonsense"], "invalid choice: '9-nonsense'"),
    (["scaling", "--setup", "system+numpy-only", "--results", "RESULTS"], "the post's network trains with scipy.optimize"),
    (["threadmap", "--setup", "pypi:2.0+numpy-only", "pypi:2.4", "--results", "RESULTS"], "+numpy-only on every setup"),
    (["build", "--numpy-only"], "--numpy-only is gone: the setup's +numpy-only"),
    (["bench", "--train-size", "-5"], "--train-size: -5 is not positive"),
    (["build", "--setup", "bogus", "--results", "RESULTS"], "--setup bogus: no setup kind 'bogus'; the kinds: installed, "
                                                            "system[:FLAVOUR], scipy-openblas[:RELEASE|LOW..HIGH]"),
    (["build", "--setup", "system:nope", "--results", "RESULTS"], "--setup system:nope: system has no flavour 'nope'"),
    (["build", "--setup", "reference:x", "--results", "RESULTS"], "reference takes nothing after a colon: write reference"),
    (["build", "--setup", "scipy-openblas:lp32", "--results", "RESULTS"], "'lp32' is not a release (2.0, 0.3.28) or a range"),
    (["build", "--setup", "scipy-openblas:0.3.30", "--results", "RESULTS"], "build builds scipy-openblas as pinned"),
    (["build", "--setup", "site-cfg:/nonexistent/site.cfg", "--results", "RESULTS"], "site.cfg"),
    (["build", "--setup", "installed", "--results", "RESULTS"], "--setup installed: nothing to build"),
    (["build", "--setup", "system,blis", "--results", "RESULTS"], "build takes one setup; several side by side: "
                                                                   "`scaling --setup system:pthread blis:pthread`"),
    (["threadmap", "--setup", "pypi:2.0", "scipy-openblas:0.3.28", "--results", "RESULTS"], "one release series at a time"),
    (["threadmap", "--setup", "scipy-openblas:0.3.28", "blis", "--results", "RESULTS"], "beside scipy-openblas's releases, "
                                                                                        "a point is OpenBLAS built otherwise"),
    (["threadmap", "--bisect", "--results", "RESULTS"], "--bisect needs the releases to search"),
    (["build", "--provider", "blis"], "--provider is gone: --setup KIND[:FLAVOUR]"),
    (["threadmap", "--installed"], "--installed is gone: --setup installed."),
    (["threadmap", "--numpy-releases", "1.26..2.4"], "--numpy-releases is gone: --setup pypi:LOW..HIGH."),
    (["threadmap", "--setup", "scipy-openblas", "--bisect", "0.3.26..0.3.34"], "--bisect takes no range now"),
    (["container", "--setup", "blis"], "the image builds against Debian's OpenBLAS"),
    (["compare", "RESULTS", "RESULTS", "--output", "RESULTS"], "--output is gone: --results DIR."),
    (["threadmap", "--max-seconds", "2"], "threadmap --max-seconds is gone: --call-limit SECONDS."),
    (["scaling", "--results", "/dev/null/results"], "cannot write results to /dev/null/results"),
    (["report", "--results", "RESULTS/missing"], "is not a results directory"),
    (["compare", "RESULTS"], "compare needs two or more result directories"),
    (["compare", "RESULTS", "RESULTS"], "the same directory is given twice"),
    (["compare", "RESULTS", str(DATA / "xeon16-pypi-a"), "--results", "reports/examples/x"], "inside the committed examples"),
    (["scaling", "--setup", "pypi", "essl", "--results", "RESULTS"], "no setup kind 'essl'"),
    (["scaling", "--setup", "pypi", "blis", "--peers", "torch", "--results", "RESULTS"], "--peers are swept beside one setup"),
    (["compare-variants", "--setup", "blis"], "compare-variants is gone: several setups side by side are `scaling --setup"),
    (["build", "--setup", "source+TARGT=ZEN", "--results", "RESULTS"], "unknown OpenBLAS make variable"),
    (["build", "--setup", "mkl+TARGET=ZEN", "--results", "RESULTS"], "'TARGET=ZEN' is not numpy-only, numpy==RELEASE"),
    (["build", "--setup", "system+numpy==latest", "--results", "RESULTS"], "'numpy==latest' is not numpy-only, numpy==RELEASE"),
    (["threadmap", "--setup", "pypi+numpy==2.0", "--results", "RESULTS"], "NumPy's releases are pypi:RELEASE"),
    (["build", "--setup", "system+scipy==1.16.3+numpy-only", "--results", "RESULTS"], "NumPy alone builds no SciPy"),
    (["scaling", "--setup", "system", "system:pthread+numpy==2.3.5", "--results", "RESULTS"], "each setup of another kind"),
    (["build", "--numpy", "2.3.5"], "--numpy is gone: the setup's +numpy==RELEASE"),
    (["build", "--make", "TARGET=ZEN"], "--make is gone: the setup's +KEY=VALUE"),
    (["build", "--setup", "blis:tbb", "--results", "RESULTS"], "choose one of pthread, openmp"),
]
# A results file damaged in one way, then `report`: (file content, message fragment).
BAD_FILES = [
    ('{"kind": "scaling", "points": [', "is not valid JSON"),
    ("", "is empty"),
    ("{}", "is not a scaling result (kind: None)"),
    ('{"kind": "bench", "rows": []}', "is not a scaling result (kind: 'bench')"),
    ('{"kind": "scaling", "version": 99, "settings": {}, "points": []}', "update blasbench"),
    ('{"kind": "scaling", "settings": {}}', "without points"),
]


@pytest.fixture
def measured(tmp_path):
    """A results directory holding measured results, and a snapshot of its files."""
    results = tmp_path / "results"
    results.mkdir()
    for name in ("profile.json", "build.json"):
        shutil.copy(DATA / "epyc2-a" / name, results)
    return results, {p.name: p.read_bytes() for p in results.iterdir()}


def run_cli(argv: list[str], capsys) -> tuple[int, list[str]]:
    try:
        code = main(argv)
    except SystemExit as exit:  # argparse's errors
        code = exit.code
    return code, [line for line in capsys.readouterr().err.splitlines() if line.strip()]


@pytest.mark.parametrize("argv, message", CLI_FAULTS, ids=[" ".join(a)[:60] for a, _ in CLI_FAULTS])
def test_bad_command_line_input_is_one_clear_line(argv, message, measured, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    results, before = measured
    code, err = run_cli([str(results) if a == "RESULTS" else a.replace("RESULTS", str(results)) for a in argv], capsys)
    assert code == 2
    assert 1 <= len(err) <= 2 and err[0].startswith("error:") and message in " ".join(err), err
    assert {p.name: p.read_bytes() for p in results.iterdir()} == before


@pytest.mark.parametrize("content, message", BAD_FILES, ids=[m for _, m in BAD_FILES])
def test_a_damaged_result_file_is_named_and_nothing_else_is_rewritten(content, message, measured, capsys):
    results, _ = measured
    assert main(["report", "--results", str(results)]) == 0
    rendered = {p.name: p.read_bytes() for p in results.iterdir()}
    (results / "scaling.json").write_text(content)
    code, err = run_cli(["report", "--results", str(results)], capsys)
    assert code == 2 and len(err) == 1 and str(results / "scaling.json") in err[0] and message in err[0]
    assert {p.name: p.read_bytes() for p in results.iterdir() if p.name != "scaling.json"} == rendered


def test_a_missing_container_engine_named_with_engine_is_said_so(monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    code, err = run_cli(["container", "--engine", "podman"], capsys)
    assert code == 2 and err == ["error: `podman` is not installed: `sudo apt-get install podman`, "
                                 "or leave out --engine to use whichever is installed."]


@pytest.mark.parametrize("argv, message", [
    (["--train-size", "0"], "--train-size: 0 is not positive"),
    (["--layers", "784,x,10"], "is not a comma-separated list of sizes"),
    (["--iterations", "-3"], "--iterations: -3 is not positive"),
    (["--rung", "nonsense"], "invalid choice: 'nonsense'"),
    (["--sigmoid", "numpy", "--fused"], "--fused needs --sigmoid numexpr"),
])
def test_the_workload_command_line_says_one_line(argv, message):
    run = subprocess.run([sys.executable, "-m", "nn", "train", "--quiet", *argv], capture_output=True, text=True)
    err = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 2 and len(err) == 1 and err[0].startswith("error:") and message in err[0], err


def test_every_point_refused_is_a_failure_that_says_why(tmp_path, capsys, monkeypatch):
    """More threads than cores, measured as asked: OpenBLAS runs at most one per core, so every point is
    refused; the command fails saying so, and the report lists the refused points."""
    monkeypatch.chdir(ROOT)
    code, err = run_cli(["scaling", "--setup", "installed", "--quick", "--threads", "64", "--allow-busy",
                         "--rungs", "3-numexpr", "--profile-rungs", "--experiments", "--results", str(tmp_path)], capsys)
    assert code == 2 and "every point of the sweep was refused" in err[-1] and "not 64" in err[-1]
    scaling = json.loads((tmp_path / "scaling.json").read_text())
    assert scaling["version"] == RESULT_VERSION and not scaling["points"] and scaling["refused"]
    assert "## Refused points" in (tmp_path / "scaling.md").read_text()


@pytest.mark.slow
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_mid_sweep_keeps_the_points_and_renders_them(stop, tmp_path):
    """The signal to the whole process group, as a terminal's Ctrl-C (SIGINT), Slurm's time limit,
    `timeout` or `docker stop` (SIGTERM), or a closed terminal (SIGHUP) send it: the finished points
    stay, scaling.md is rendered from them and says the sweep is partial, and the exit says how to go on."""
    def interruptible():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.setsid()

    command = [sys.executable, "-c", "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
               "from blasbench.cli import main; sys.exit(main())", "scaling", "--setup", "installed", "--quick", "--allow-busy",
               "--rungs", "3-numexpr", "--repeats", "4", "--threads", "1", "--profile-rungs", "--experiments",
               "--results", str(tmp_path)]
    child = subprocess.Popen(command, cwd=ROOT, preexec_fn=interruptible, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while time.time() < deadline and not ((tmp_path / "scaling.json").exists()
                                          and json.loads((tmp_path / "scaling.json").read_text())["points"]):
        time.sleep(0.2)
    os.killpg(child.pid, stop)
    _, err = child.communicate(timeout=120)
    assert child.returncode == 130
    assert err.strip().splitlines()[-1].startswith("interrupted: results measured so far are kept")
    text = (tmp_path / "scaling.md").read_text()
    assert "**Partial sweep:** 0 of 1 thread counts measured in full" in text
    assert re.search(r"^\| 1 \| 1( \(1†\))? \|", text, re.M)  # one run at one thread († if measured under load)


@pytest.mark.parametrize("command", ["scaling", "bench"])
def test_a_peer_asked_for_but_not_installed_is_one_line_before_anything_long(command, tmp_path, capsys, monkeypatch):
    from blasbench.commands import options

    monkeypatch.setattr(options, "peer_installed", lambda peer: False)
    code, err = run_cli([command, "--peers", "torch", "--results", str(tmp_path)], capsys)
    assert code == 2 and "--peers torch: not installed" in err[-1]
    assert f"nox -s {command} -- --peers torch` installs it" in err[-1]
    assert list(tmp_path.iterdir()) == []  # nothing built, measured or written


@pytest.mark.parametrize("blocked, argv, message", [
    ("numexpr", ["scaling", "--setup", "installed", "--quick"], "this environment has no numexpr (the post's network's "
                                                                "sigmoid): `python3 -m pip install numexpr` here"),
    ("numexpr", ["bench", "--setup", "installed"], "this environment has no numexpr"),
    ("scipy", ["threadmap", "--setup", "installed"], "this environment has no scipy (SciPy's calls, and the network's "
                                                     "optimiser): `python3 -m pip install scipy` here"),
    ("numpy", ["threadmap", "--setup", "installed+numpy-only"], "this environment has no numpy (what is measured)"),
])
def test_what_a_command_needs_and_the_environment_lacks_is_one_line_before_measuring(blocked, argv, message, tmp_path):
    """`pip install .` into an environment with NumPy alone: the sweep had measured until its first point
    failed with ModuleNotFoundError."""
    code = (f"import sys; sys.modules[{blocked!r}] = None; from blasbench.cli import main; "
            f"sys.exit(main({[*argv, '--results', str(tmp_path / 'r')]!r}))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 2 and message in run.stderr and len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert not (tmp_path / "r" / "scaling.json").exists()


@pytest.mark.parametrize("where", ["read-only", "a file"])
def test_a_cache_that_cannot_be_written_is_one_line_before_anything_is_built(where, tmp_path, monkeypatch, capsys):
    """BLASBENCH_CACHE on a read-only directory, or naming a file, ended `build` in a traceback from the first
    provider that wrote there (OSError: Read-only file system: '.../pkgconfig'; NotADirectoryError)."""
    import os

    if where == "read-only":
        cache = tmp_path / "cache"
        cache.mkdir()
        cache.chmod(0o555)
        if os.access(cache, os.W_OK):  # root writes anyway: a file where the directory should be is what remains
            cache = tmp_path / "file"
            cache.write_text("")
    else:
        cache = tmp_path / "file"
        cache.write_text("")
    monkeypatch.setenv("BLASBENCH_CACHE", str(cache / "blasbench") if where == "a file" else str(cache))
    assert main(["build", "--setup", "scipy-openblas+numpy-only", "--results", str(tmp_path / "r")]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "cannot write the cache at" in err[0] and "set BLASBENCH_CACHE" in err[0], err
