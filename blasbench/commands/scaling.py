"""``scaling``: on the build, the network's tests, the profiling sweep, the thread-scaling sweep and
why scaling stops, and the reports."""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
from dataclasses import asdict, replace
from pathlib import Path

from nn.options import RUNGS

from .. import UserError, pins, provenance
from ..facts import EXPERIMENTS
from ..measuring.profiles import run_profiles
from ..measuring.releases import NumPyReleases, sweep_measure
from ..measuring.sweep import ScalingSettings, Workload, run_child, run_scaling
from ..measuring.why import WhySettings, run_why
from ..measuring.workload import NETWORK, parse_workload, workload_name
from ..measuring.workloads import measure_workloads
from ..render import render_all
from ..results.directory import Results
from ..results.kinds import write_result
from .build import command_build
from .options import (
    PROFILE_ITERATIONS,
    QUICK,
    SCALING_WORKLOAD,
    VARIANTS_RUNG,
    VARIANTS_WORKLOAD,
    Listed,
    add_build_options,
    add_peers_option,
    add_results_options,
    add_sweep_options,
    add_workload_options,
    check_installed,
    chosen_peers,
    chosen_setups,
    ensure_quiet,
    numpy_alone,
    on_installed,
    writable_results,
)
from .releases import add_bisect_option, build_of, release_axis, run_axis
from .variants import measure_side_by_side, reported, side_by_side

# The post's start (NumPy sigmoid), the post's end (numexpr, contiguous), and ours: fused buffers, and
# the data-parallel step that runs every phase on every core.
SCALING_RUNGS = ("0-seed", "4-contiguous", "5-fused-buffers", "6-data-parallel")




def scaling_settings(args: argparse.Namespace, rungs: list[str], defaults: dict | None = None) -> ScalingSettings:
    """The sweep the options ask for; ``defaults`` (iterations, train_size, repeats) where they are silent."""
    defaults = QUICK if args.quick else (defaults or SCALING_WORKLOAD)
    pick = {name: defaults[name] if getattr(args, name) is None else getattr(args, name) for name in defaults}
    workload = Workload(iterations=pick["iterations"], train_size=pick["train_size"],
                        data_dir=str(args.data_dir) if args.data_dir else None)
    cores = provenance.usable_cores()
    threads = args.threads or (tuple(sorted({1, cores})) if args.quick else tuple(range(1, cores + 1)))
    if max(threads) > cores:
        print(f"note: --threads {max(threads)} is more than the {cores} usable cores here: measured as asked (a BLAS "
              "that runs at most a thread per core is refused at those points).", file=sys.stderr)
    return ScalingSettings(rungs=tuple(rungs), threads=threads, repeats=pick["repeats"], workload=workload,
                           warmup=not args.quick)


def why_settings(args: argparse.Namespace, settings: ScalingSettings) -> WhySettings:
    if args.quick:
        return WhySettings(threads=max(settings.threads), repeats=1, hidden_sizes=(25, 300),
                           example_counts=(1000, 5000), dgemm_size=256,
                           workload=Workload(iterations=2, train_size=5000, data_dir=settings.workload.data_dir))
    return WhySettings(threads=max(settings.threads), workload=Workload(iterations=3, data_dir=settings.workload.data_dir))


def run_network_tests(required: bool = True) -> None:
    """The network's correctness tests, against the NumPy/SciPy of this environment; without pytest,
    a build's sweep stops (its session installs pytest) while an environment checked as it is
    (``--setup installed``, after a bare `pip install .`) says so and goes on."""
    tests = Path("tests") / "test_network.py"
    if not tests.exists():
        print(f"note: {tests} not found (run from the repository root to include the network's tests)", file=sys.stderr)
        return
    if importlib.util.find_spec("pytest") is None and not required:
        print("note: pytest is not installed here, so the network's correctness tests did not run "
              "(`python3 -m pip install pytest` runs them).", file=sys.stderr)
        return
    if importlib.util.find_spec("pytest") is None:
        raise UserError("pytest is not installed in this environment, so the network's correctness tests cannot run: "
                        "`pip install pytest` (the nox session installs it).")
    if subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)]).returncode != 0:
        raise UserError("the network's correctness tests failed on this build: its timings would not mean anything.")


def with_function(args: argparse.Namespace, settings: ScalingSettings) -> ScalingSettings:
    """``settings`` for the function ``--workload`` names (each point warms the function up itself)."""
    workload = parse_workload(args.workload[0], args.workload_args, args.number, args.max_seconds)
    return replace(settings, rungs=(workload.function,), workload=workload, warmup=False)


def function_setup(args: argparse.Namespace) -> None:
    """The one setup a function is swept on, ready: the installed NumPy (and SciPy) checked, or the build (cached)."""
    if on_installed(args):
        check_installed("numpy", *(() if numpy_alone(chosen_setups(args)) else ("scipy",)))
    else:
        command_build(args)


def of_network(args: argparse.Namespace) -> bool:
    """Whether the sweep is the post's network's (the default ``--workload``), not functions of the user's."""
    if NETWORK in args.workload and len(args.workload) > 1:
        raise UserError(f"--workload {' '.join(args.workload)}: {NETWORK} is swept by its rungs (--rungs), not beside "
                        "functions: name functions only, FILE.py:FUNCTION ...")
    return args.workload == [NETWORK]


def command_workloads(args: argparse.Namespace) -> int:
    """Several functions (``--workload A B ...``) on one setup: the build, then each one's sweep, a repeat
    of each in turn, and workloads.md holding each against the first; no profile."""
    if len(setups := chosen_setups(args)) > 1 or setups[0].release:
        raise UserError("several workloads are swept on one setup, not a release axis: name one --setup, or sweep "
                        "one workload on several.")
    settings = replace(scaling_settings(args, [], VARIANTS_WORKLOAD), warmup=False)
    workloads = {}
    for asked in args.workload:
        workload = parse_workload(asked, args.workload_args, args.number, args.max_seconds)
        name = workload_name(workload, asked.rpartition("@")[2] if workload.revision else "")
        if name in workloads:
            raise UserError(f"--workload {asked}: named twice (as {workloads[name][1]}); each workload once.")
        workloads[name] = (workload, asked)
    writable_results(args.results)
    function_setup(args)
    ensure_quiet(args)
    return reported(args.results, "workloads.md", lambda: measure_workloads(settings, workloads, args.results))


def profile_function(settings: ScalingSettings, sweep: dict, path: Path) -> None:
    """The function under cProfile in one more process, at the most threads swept; its .prof beside
    the sweep (``sweep``, as saved at ``path``) and its busiest functions in the sweep's result."""
    threads = max(settings.threads)
    prof = path.parent / "profile" / f"{settings.workload.function}.prof"
    print(f"profiling {settings.workload.spec} at {threads} thread(s) ...", flush=True)
    result = run_child(settings.workload, settings.workload.function, threads, profile=prof)
    sweep["profile"] = {"threads": threads, "prof": str(prof.relative_to(path.parent)), "functions": result["profile"]}
    write_result(path, sweep)


def sweep_releases(args: argparse.Namespace, settings: ScalingSettings, extras: tuple[str, ...] = ()) -> int | None:
    """With a release axis (``--setup scipy-openblas:RELEASES`` or ``pypi:RELEASES``): the sweep of
    ``settings`` at each release, nothing else (no tests, profile or experiments); None without one."""
    axis, releases = release_axis(args, chosen_setups(args), extras=extras)
    if axis is None:
        return None
    if not isinstance(axis, NumPyReleases):  # OpenBLAS's releases load under the build against scipy-openblas32
        command_build(args, build_of(axis, args))
    ensure_quiet(args)
    return run_axis(args, axis, sweep_measure(settings), releases)


def command_function_scaling(args: argparse.Namespace) -> int:
    """`--workload FILE.py:FUNCTION`: the build, then the function's thread sweep and its report."""
    settings = with_function(args, scaling_settings(args, []))
    writable_results(args.results)
    if (code := sweep_releases(args, settings)) is not None:
        return code
    function_setup(args)
    ensure_quiet(args)
    try:
        sweep = run_scaling(settings, args.results / "scaling.json")
        if args.profile_rungs:  # `--profile-rungs` with no name skips it, as for the network
            profile_function(settings, sweep, args.results / "scaling.json")
    finally:
        render_all(Results.load(args.results))  # what was measured is reported, also after Ctrl-C or an error
    print(f"reports: {args.results / 'index.md'}")
    if not sweep["points"]:
        raise UserError(f"every point of the sweep was refused ({'; '.join(sorted({r['why'] for r in sweep['refused']}))}).")
    return 0


def scaling_side_by_side(args: argparse.Namespace) -> int:
    """Several setups (``--setup A B ...``): the sweep of one rung (default the post's end) or of the
    function in each setup's environment, a repeat of each in turn; no tests, profile or experiments."""
    if args.peers:
        raise UserError("--peers are swept beside one setup: drop --peers, or sweep them with one --setup.")
    settings = scaling_settings(args, [VARIANTS_RUNG] if args.rungs is None else args.rungs, VARIANTS_WORKLOAD)
    if not of_network(args):
        settings = with_function(args, settings)
    elif not settings.rungs:
        raise UserError("--rungs with no name sweeps nothing, and several setups are measured by their sweeps: "
                        f"name a rung (default {VARIANTS_RUNG}).")
    writable_results(args.results)
    return measure_side_by_side(args, chosen_setups(args), settings)


def command_scaling(args: argparse.Namespace) -> int:
    network = of_network(args)
    if numpy_alone(chosen_setups(args)) and network:
        raise UserError("+numpy-only has no SciPy, and the post's network trains with scipy.optimize.minimize: "
                        "drop +numpy-only, or sweep your own NumPy code with --workload FILE.py:FUNCTION.")
    if len(args.workload) > 1:
        return command_workloads(args)
    if side_by_side(chosen_setups(args)):
        return scaling_side_by_side(args)
    if not network:
        return command_function_scaling(args)
    peers = chosen_peers(args)
    rungs = list(SCALING_RUNGS) if args.rungs is None else args.rungs
    settings = scaling_settings(args, [*rungs, *peers] if rungs else [])
    profile_workload = Workload(**{**asdict(settings.workload),
                                   "iterations": args.iterations or (settings.workload.iterations if args.quick
                                                                     else PROFILE_ITERATIONS)})
    writable_results(args.results)
    numexpr = tuple(p for p in pins.RUNTIME if p.startswith("numexpr=="))  # the network's sigmoid
    if (code := sweep_releases(args, settings, extras=numexpr)) is not None:
        return code
    installed = on_installed(args)
    if installed:
        check_installed("numpy", "scipy", "numexpr")  # a build's environment has them (pins.RUNTIME)
    else:
        command_build(args)
    run_network_tests(required=not installed)
    ensure_quiet(args)
    sweep = None
    try:
        if args.profile_rungs:
            run_profiles(args.profile_rungs, profile_workload, None, args.results / "profile.json")
        if settings.rungs:
            sweep = run_scaling(settings, args.results / "scaling.json")
        if args.experiments:
            run_why(why_settings(args, settings), args.experiments, args.results / "why.json")
    finally:
        render_all(Results.load(args.results))  # what was measured is reported, also after Ctrl-C
    print(f"reports: {args.results / 'index.md'}")
    if sweep is not None and not sweep["points"]:
        reasons = sorted({r["why"] for r in sweep["refused"]})
        raise UserError(f"every point of the sweep was refused ({'; '.join(reasons)}): nothing was measured.")
    return 0


def register(commands) -> None:
    scaling = commands.add_parser("scaling", help="build (cached), test the network, profile and sweep threads, report")
    add_build_options(scaling, "the setup swept, or several side by side (each in an environment of its own)")
    group = scaling.add_argument_group("sweeps")
    group.add_argument("--quick", action="store_true", help="a small smoke run: 3 iterations on 5,000 examples, 1 repeat")
    add_workload_options(group)
    group.add_argument("--rungs", action=Listed, nargs="*", allowed=RUNGS, metavar="RUNG",
                       help=f"ladder rungs to sweep (default: {' '.join(SCALING_RUNGS)}; with several setups "
                            f"{VARIANTS_RUNG}; `--rungs` with no name skips the sweep)")
    group.add_argument("--profile-rungs", action=Listed, nargs="*", allowed=RUNGS, default=list(RUNGS), metavar="RUNG",
                       help="rungs to profile (default all; `--profile-rungs` with no name skips the profiling sweep)")
    add_peers_option(group, "swept beside the rungs")
    group.add_argument("--experiments", action=Listed, nargs="*", allowed=EXPERIMENTS, default=list(EXPERIMENTS),
                       metavar="NAME",
                       help=f"why-scaling-stops experiments ({', '.join(EXPERIMENTS)}; default all; "
                            "`--experiments` with no name skips them)")
    add_sweep_options(group)
    add_bisect_option(group)
    scaling.set_defaults(run=command_scaling)
    add_results_options(scaling)
