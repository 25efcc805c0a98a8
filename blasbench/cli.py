"""``python -m blasbench COMMAND``: what the nox sessions call."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from nn import WorkloadError
from nn.options import ITERATIONS, RUNGS, TRAIN_SIZE, Parser, positive

from . import MachineBusy, UserError, pins, provenance
from .bench import run_bench
from .build import ensure
from .calls import CALLS, DTYPES
from .cluster import COMMANDS, ClusterJob, run_cluster
from .compare import compare_dirs
from .container import BASE_TAG, main_container
from .facts import BUSY_CORES, CHANGE_FACTOR, EXPERIMENTS, PEERS
from .peers import peer_installed
from .profiles import run_profiles
from .providers import PROVIDERS, SYSTEM_VARIANTS, get_provider, providers_help
from .render import render_all, render_compare
from .results import Results
from .setups import DEFAULT_VARIANTS, VARIANTS
from .store import atomic_write_text, one_writer, write_result
from .sweep import ScalingSettings, Workload, run_scaling
from .threadmap import DEFAULT_SIZES, MapSettings, check_sizes, run_threadmap
from .variants import compare_variants
from .verify import EXIT_STATUS
from .wheelhouse import command_wheelhouse
from .why import WhySettings, run_why

# The post's start (NumPy sigmoid), the post's end (numexpr, contiguous), and ours: fused buffers, and
# the data-parallel step that runs every phase on every core.
SCALING_RUNGS = ("0-seed", "4-contiguous", "5-fused-buffers", "6-data-parallel")
# compare-variants trains the post's end: all its parallelism is the BLAS's, which is what is compared.
VARIANTS_RUNG = "4-contiguous"
# scaling reproduces the post: its iterations and examples, 3 runs per point.
SCALING_WORKLOAD = {"iterations": ITERATIONS, "train_size": TRAIN_SIZE, "repeats": 3}
QUICK = {"iterations": 3, "train_size": 5000, "repeats": 1}
# compare-variants: short runs, since the reference BLAS is an order of magnitude slower.
VARIANTS_WORKLOAD = {"iterations": 10, "train_size": 10000, "repeats": 3}


def add_build_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("build")
    group.add_argument("--provider", choices=list(PROVIDERS), default="system", help=providers_help())
    group.add_argument("--variant", help="the provider's variant (see --provider; default: its first)")
    group.add_argument("--site-cfg", type=Path, help="with --provider site-cfg: the site.cfg to read (default ./site.cfg)")
    group.add_argument("--make", nargs="+", default=[], metavar="KEY=VALUE",
                       help="with --provider source: OpenBLAS make variables, e.g. TARGET=ZEN USE_OPENMP=1 "
                            "(defaults USE_THREAD=1 NUM_THREADS=64 NO_AFFINITY=1 NO_WARMUP=1)")
    group.add_argument("--numpy", default=pins.NUMPY, help=f"NumPy version to build (default {pins.NUMPY})")
    group.add_argument("--scipy", default=pins.SCIPY, help=f"SciPy version to build (default {pins.SCIPY})")
    group.add_argument("--allow-unverified", action="store_true",
                       help="record a failed verification and go on (e.g. an image build on a busy builder)")
    group.add_argument("--wait-quiet", type=float, default=60.0, metavar="SECONDS",
                       help="wait up to this long for other processes to leave the cores free before timing "
                            "(default 60; a probe still spoilt by load is inconclusive, not failed)")


def ensure_build(args: argparse.Namespace) -> dict:
    """The build the options ask for, installed into this environment and verified (see :func:`build.ensure`)."""
    openblas = get_provider(args.provider, args.variant, args.site_cfg, args.make).ensure()
    return ensure(openblas, args.numpy, None if args.numpy_only else args.scipy, args.wait_quiet, args.check_reproducible)


def command_build(args: argparse.Namespace) -> int:
    writable_results(args.results)
    result = ensure_build(args)
    write_result(args.results / "build.json", result)
    render_all(Results.load(args.results))
    print(f"wrote {args.results / 'build.json'} and {args.results / 'build.md'}")
    status = result["verification"]["status"]
    if status == "inconclusive":
        print("note: the build is installed; its timing probe was inconclusive because the machine is busy "
              "(above). Check it later with `python3 -m nox -s verify`.", file=sys.stderr)
    elif status == "failed":
        if args.allow_unverified:
            print("note: verification failed (above); continuing as --allow-unverified asks.", file=sys.stderr)
        else:
            raise UserError("the build is installed but verification failed (see above).")
    return 0


def thread_list(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted({int(n) for n in text.split(",")}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of thread counts like 1,2,4") from None
    if not values or values[0] < 1:
        raise argparse.ArgumentTypeError("thread counts must be 1 or more")
    return values


def scaling_settings(args: argparse.Namespace, rungs: list[str], defaults: dict | None = None) -> ScalingSettings:
    """The sweep the options ask for; ``defaults`` (iterations, train_size, repeats) where they are silent."""
    defaults = QUICK if args.quick else (defaults or SCALING_WORKLOAD)
    pick = {name: defaults[name] if getattr(args, name) is None else getattr(args, name) for name in defaults}
    workload = Workload(iterations=pick["iterations"], train_size=pick["train_size"],
                        data_dir=str(args.data_dir) if args.data_dir else None)
    cores = provenance.usable_cores()
    threads = args.threads or (tuple(sorted({1, cores})) if args.quick else tuple(range(1, cores + 1)))
    if max(threads) > cores and not args.oversubscribe:
        raise UserError(f"--threads asks for {max(threads)} threads but only {cores} cores are usable here: "
                        "pass counts up to that, or add --oversubscribe to measure more threads than cores.")
    return ScalingSettings(rungs=tuple(rungs), threads=threads, repeats=pick["repeats"], workload=workload,
                           warmup=not args.quick)


def why_settings(args: argparse.Namespace, settings: ScalingSettings) -> WhySettings:
    if args.quick:
        return WhySettings(threads=max(settings.threads), repeats=1, hidden_sizes=(25, 300),
                           example_counts=(1000, 5000), dgemm_size=256,
                           workload=Workload(iterations=2, train_size=5000, data_dir=settings.workload.data_dir))
    return WhySettings(threads=max(settings.threads), workload=Workload(iterations=3, data_dir=settings.workload.data_dir))


def run_network_tests() -> None:
    """The network's correctness tests, against the NumPy/SciPy of this environment."""
    tests = Path("tests") / "test_network.py"
    if not tests.exists():
        print(f"note: {tests} not found (run from the repository root to include the network's tests)", file=sys.stderr)
        return
    if importlib.util.find_spec("pytest") is None:
        raise UserError("pytest is not installed in this environment, so the network's correctness tests cannot run: "
                        "`pip install pytest` (the nox session installs it).")
    if subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)]).returncode != 0:
        raise UserError("the network's correctness tests failed on this build: its timings would not mean anything.")


def command_scaling(args: argparse.Namespace) -> int:
    peers = [peer for peer in args.peers if peer_installed(peer)]
    if missing := sorted(set(args.peers) - set(peers)):
        raise UserError(f"--peers {' '.join(missing)}: not installed in this environment; "
                        f"`python3 -m nox -s scaling -- --peers {' '.join(missing)}` installs it.")
    settings = scaling_settings(args, [*args.rungs, *peers] if args.rungs else [])
    profile_workload = Workload(**{**asdict(settings.workload),
                                   "iterations": args.profile_iterations or (settings.workload.iterations if args.quick else 20)})
    writable_results(args.results)
    if args.installed:
        check_installed()
    else:
        command_build(args)
    run_network_tests()
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


def ensure_quiet(args: argparse.Namespace) -> None:
    """Timings need free cores: wait (bounded) for them, or stop saying how to measure anyway."""
    load = provenance.wait_for_quiet(0 if args.allow_busy else args.wait_quiet)
    if load["other_cores"] >= BUSY_CORES:
        if not args.allow_busy:
            raise MachineBusy(f"the machine is busy ({provenance.describe_load(load)}): run again when it is quiet, "
                            "or pass --allow-busy to measure anyway (points measured under load are marked).")
        print(f"note: measuring on a busy machine ({provenance.describe_load(load)}); --allow-busy", file=sys.stderr)


def writable_results(directory: Path) -> None:
    """Checked before anything long: the results directory exists (or can be made) and takes files."""
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as e:
        raise UserError(f"cannot write results to {directory} ({e.strerror}): pass a writable --results DIR.") from None


def check_installed() -> None:
    """With --installed: measure this environment's own NumPy/SciPy, whatever their BLAS; the
    verification is shown so that the reader knows what was measured, and does not stop the run."""
    print("Measuring the NumPy/SciPy installed in this environment (--installed); no build.", flush=True)
    if subprocess.run([sys.executable, "-m", "blasbench.verify"]).returncode != 0:
        print("note: this environment fails verification (above); its results show it as it is.", file=sys.stderr)


def command_verify(args: argparse.Namespace) -> int:
    result = ensure_build(args)
    return EXIT_STATUS[result["verification"]["status"]]


def command_bench(args: argparse.Namespace) -> int:
    if args.installed:
        check_installed()
    elif ensure_build(args)["verification"]["status"] == "failed":
        raise UserError("the build failed verification (see above): its timings would not mean anything.")
    writable_results(args.results)
    result = run_bench(args.rungs, args.train_size or TRAIN_SIZE, args.repeats or 5, peers=args.peers, dtypes=args.dtypes)
    write_result(args.results / "bench.json", result)
    render_all(Results.load(args.results))
    print(f"wrote {args.results / 'bench.json'} and {args.results / 'bench.md'}")
    return 0


def default_thread_counts(cores: int) -> tuple[int, ...]:
    """1, the powers of two below the usable cores, and the usable cores: a map per count costs minutes."""
    return tuple(sorted({1, cores, *(2 ** k for k in range(1, cores.bit_length()) if 2 ** k < cores)}))


def command_threadmap(args: argparse.Namespace) -> int:
    threads = args.threads or default_thread_counts(provenance.usable_cores())
    settings = MapSettings(calls=tuple(args.calls), dtypes=tuple(args.dtypes), sizes=tuple(args.sizes),
                           threads=threads, repeats=args.repeats, max_seconds=args.max_seconds)
    check_sizes(settings)  # before anything long
    writable_results(args.results)
    if args.installed:
        check_installed()
    elif ensure_build(args)["verification"]["status"] == "failed":
        raise UserError("the build failed verification (see above): its timings would not mean anything.")
    ensure_quiet(args)
    try:
        run_threadmap(settings, args.results / "threadmap.json")
    finally:
        render_all(Results.load(args.results))  # what was measured is reported, also after Ctrl-C
    print(f"report: {args.results / 'threadmap.md'}")
    return 0


def command_compare_variants(args: argparse.Namespace) -> int:
    settings = scaling_settings(args, [args.rung], VARIANTS_WORKLOAD)
    names = list(dict.fromkeys(args.blas_variants + (["site-cfg"] if args.site_cfg else [])))
    writable_results(args.results)
    try:
        failed = compare_variants(names, settings, args.results, args.site_cfg,
                                  dgemm_size=256 if args.quick else 1024, quiet=lambda: ensure_quiet(args))
    finally:
        render_all(Results.load(args.results))
    print(f"report: {args.results / 'variants.md'}")
    if failed:
        raise UserError(f"not measured: {', '.join(failed)} (see above); the report shows the others.")
    return 0


def command_compare(args: argparse.Namespace) -> int:
    if len(args.directories) < 2:
        raise UserError("compare needs two or more result directories: python3 -m nox -s compare -- DIR_A DIR_B [...]")
    examples = (Path("reports") / "examples").resolve()
    if args.output.resolve().is_relative_to(examples):
        raise UserError(f"{args.output} is inside the committed examples ({examples}): pass another --output DIR.")
    comparison = compare_dirs(args.directories, args.factor)
    write_result(args.output / "compare.json", comparison)
    atomic_write_text(args.output / "compare.md", render_compare(comparison))
    print(f"wrote {args.output / 'compare.json'} and {args.output / 'compare.md'}")
    return 0


def command_cluster(args: argparse.Namespace) -> int:
    if args.resume:
        return run_cluster(None, args.resume, args.results, args.poll)
    if not args.command:
        raise UserError(f"name the command each node runs ({', '.join(COMMANDS)}), or --resume JOB.")
    nodelist = args.nodelist.split(",") if args.nodelist else None
    job = ClusterJob(command=args.command, arguments=args.arguments, nodes=len(nodelist) if nodelist else args.nodes,
                     results=str(args.results.resolve()), repository=str(Path.cwd()), python=sys.executable,
                     partition=args.partition, nodelist=nodelist, time=args.time, account=args.account,
                     constraint=args.constraint)
    return run_cluster(job, None, args.results, args.poll)


def command_report(args: argparse.Namespace) -> int:
    for path in render_all(Results.load(args.results)):
        print(f"wrote {path}")
    return 0


def add_sweep_options(group, defaults: dict | None = None) -> None:
    defaults = defaults or SCALING_WORKLOAD
    group.add_argument("--threads", type=thread_list, help="thread counts, e.g. 1,2,4 (default: 1 to the usable cores)")
    group.add_argument("--oversubscribe", action="store_true", help="allow thread counts above the usable cores")
    group.add_argument("--allow-busy", action="store_true",
                       help="measure even when other processes keep the cores busy (such points are marked)")
    group.add_argument("--repeats", type=positive, help=f"runs per point (default {defaults['repeats']})")
    group.add_argument("--iterations", type=positive, help=f"CG iterations per run (default {defaults['iterations']})")
    group.add_argument("--train-size", type=positive, help=f"training examples (default {defaults['train_size']:,})")
    group.add_argument("--data-dir", type=Path, help="MNIST IDX directory (default: the packaged copy)")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="python -m blasbench")
    parser.set_defaults(numpy_only=False, check_reproducible=False)  # what the commands that build but cannot take these see
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="compile NumPy and SciPy against a BLAS (OpenBLAS by default), install, verify")
    add_build_options(build)
    build.add_argument("--check-reproducible", action="store_true",
                       help="build every wheel a second time, ccache off, into a temporary directory and say whether "
                            "the two are identical (or which members differ, and where); build.md shows the verdict")
    build.set_defaults(run=command_build)
    wheels = commands.add_parser("wheelhouse", help="export builds to a tar file, import them on another machine, list them")
    wheels.add_argument("action", choices=("export", "import", "list"))
    wheels.add_argument("archive", type=Path, nargs="?", help="the tar file to write (export) or read (import)")
    wheels.add_argument("--keys", nargs="+", default=[], metavar="PREFIX",
                        help="export only entries whose name or key starts with one of these (default: all)")
    wheels.set_defaults(run=command_wheelhouse)
    scaling = commands.add_parser("scaling", help="build (cached), test the network, profile and sweep threads, report")
    add_build_options(scaling)
    group = scaling.add_argument_group("sweeps")
    group.add_argument("--quick", action="store_true", help="a small smoke run: 3 iterations on 5,000 examples, 1 repeat")
    group.add_argument("--profile-iterations", type=positive, help="CG iterations per profiled rung (default 20)")
    group.add_argument("--rungs", nargs="*", choices=RUNGS, default=list(SCALING_RUNGS), metavar="RUNG",
                       help=f"ladder rungs to sweep (default: {' '.join(SCALING_RUNGS)}; none to skip)")
    group.add_argument("--profile-rungs", nargs="*", choices=RUNGS, default=list(RUNGS), metavar="RUNG",
                       help="rungs to profile (default all; none to skip the profiling sweep)")
    # opt-in, unlike bench: a sweep's settings (hence which results it resumes) must not change
    # because a package happens to be installed
    group.add_argument("--peers", nargs="*", choices=PEERS, default=[], metavar="PEER",
                       help=f"other frameworks swept beside the rungs ({', '.join(PEERS)}; default none; "
                            "`python3 -m nox -s scaling -- --peers torch` installs PyTorch)")
    group.add_argument("--experiments", nargs="*", choices=EXPERIMENTS, default=list(EXPERIMENTS), metavar="NAME",
                       help=f"why-scaling-stops experiments ({', '.join(EXPERIMENTS)}; default all, none to skip)")
    add_sweep_options(group)
    scaling.set_defaults(run=command_scaling)
    variants = commands.add_parser("compare-variants", help="build (cached) and sweep several BLAS variants side by side")
    variants.add_argument("--variants", dest="blas_variants", nargs="+", choices=list(VARIANTS), default=list(DEFAULT_VARIANTS),
                          metavar="VARIANT", help=f"from {', '.join(VARIANTS)} (default: {', '.join(DEFAULT_VARIANTS)})")
    variants.add_argument("--site-cfg", type=Path, help="also measure the OpenBLAS prefix this site.cfg describes")
    variants.add_argument("--quick", action="store_true", help="a small smoke run: 3 iterations on 5,000 examples, 1 repeat")
    group = variants.add_argument_group("sweeps")
    group.add_argument("--rung", choices=RUNGS, default=VARIANTS_RUNG,
                       help=f"the training rung every variant runs (default {VARIANTS_RUNG})")
    add_sweep_options(group, VARIANTS_WORKLOAD)
    group.add_argument("--wait-quiet", type=float, default=60.0, metavar="SECONDS",
                       help="before each variant's timings, wait up to this long for other processes to leave the "
                            "cores free (default 60), then stop unless --allow-busy")
    variants.set_defaults(run=command_compare_variants)
    compare = commands.add_parser("compare", help="merge result directories of several runs or machines into one report")
    compare.add_argument("directories", nargs="+", type=Path, help="result directories; the first is the baseline")
    compare.add_argument("--factor", type=float, default=CHANGE_FACTOR,
                         help=f"smallest ratio flagged as a change (default {CHANGE_FACTOR}, as asv's)")
    compare.add_argument("--output", type=Path, default=Path("reports") / "compare",
                         help="where compare.json and compare.md go (default reports/compare)")
    compare.set_defaults(run=command_compare)
    installed_help = "measure the NumPy/SciPy already installed here instead of building (e.g. PyPI's wheels)"
    verify = commands.add_parser("verify", help="install the build (cached) and verify it, writing nothing")
    add_build_options(verify)
    verify.set_defaults(run=command_verify)
    for sub in (build, verify):
        sub.add_argument("--numpy-only", action="store_true",
                         help="build and verify NumPy alone: what can break with a provider (pkg-config, meson options, "
                              "linkage, what is loaded) at a fifth of the time; the workloads need SciPy too")
    bench = commands.add_parser("bench", help="time one cost-and-gradient per rung against DGEMM, at 1 and all threads")
    add_build_options(bench)
    bench.add_argument("--rungs", nargs="+", choices=RUNGS, default=list(RUNGS), metavar="RUNG")
    bench.add_argument("--train-size", type=positive)
    bench.add_argument("--repeats", type=positive)
    bench.add_argument("--dtypes", nargs="+", choices=("float64", "float32"), default=["float64", "float32"],
                       help="precisions of the rungs' cost and gradient (default both)")
    bench.add_argument("--peers", nargs="*", choices=PEERS, default=list(PEERS), metavar="PEER",
                       help=f"other frameworks measured beside the rungs when installed ({', '.join(PEERS)}; "
                            "default all; none to skip)")
    bench.set_defaults(run=command_bench)
    threadmap = commands.add_parser("threadmap", help="time NumPy's and SciPy's calls over sizes and thread counts: "
                                    "where BLAS threads pay, where they hurt, and what to set")
    add_build_options(threadmap)
    group = threadmap.add_argument_group("map")
    group.add_argument("--calls", nargs="+", choices=list(CALLS), default=list(CALLS), metavar="CALL",
                       help=f"the calls timed (default all: {', '.join(CALLS)})")
    group.add_argument("--sizes", nargs="*", type=int, default=list(DEFAULT_SIZES), metavar="N",
                       help=f"matrix sizes n (default {' '.join(map(str, DEFAULT_SIZES))})")
    group.add_argument("--dtypes", nargs="+", choices=DTYPES, default=["float64"], metavar="DTYPE",
                       help=f"precisions ({', '.join(DTYPES)}; default float64)")
    group.add_argument("--threads", type=thread_list,
                       help="thread counts, e.g. 1,2,4 (default: 1, the powers of two below the usable cores, and the cores)")
    group.add_argument("--repeats", type=positive, default=MapSettings.repeats,
                       help=f"measurements per cell, each at least 20 ms (default {MapSettings.repeats})")
    group.add_argument("--max-seconds", type=float, default=MapSettings.max_seconds, metavar="SECONDS",
                       help="a call's sizes stop growing where one call at one thread takes longer than this "
                            f"(default {MapSettings.max_seconds:g})")
    group.add_argument("--allow-busy", action="store_true",
                       help="measure even when other processes keep the cores busy")
    threadmap.set_defaults(run=command_threadmap)
    for sub in (scaling, bench, threadmap):
        sub.add_argument("--installed", action="store_true", help=installed_help)
    container = commands.add_parser("container", help="build the image (docker or podman) and run the pipeline in it")
    container.add_argument("--variant", choices=SYSTEM_VARIANTS, default="pthread", help="Debian OpenBLAS variant in the image")
    container.add_argument("--engine", choices=("docker", "podman"), help="default: whichever answers first")
    container.add_argument("--tag", help="image tag (default blasbench:<variant>)")
    container.add_argument("--base", default=BASE_TAG, help=f"base image (default {BASE_TAG})")
    container.add_argument("--local-base", action="store_true",
                           help="make the base image locally with debootstrap (no registry needed)")
    container.add_argument("--mirror", help="Debian mirror for --local-base (default: the host's apt mirror)")
    container.add_argument("--extra-ca", action="store_true",
                           help="add the host's extra CA certificates to the local base image (intercepting proxies)")
    container.add_argument("--no-wheelhouse", action="store_true",
                           help="do not reuse the host's wheelhouse: compile in the image")
    container.add_argument("--cpus", help="CPUs given to the container, e.g. 0-1 (default: all)")
    container.add_argument("--command", help="run this instead of the image's default (e.g. 'python -m nox -R -s verify')")
    container.add_argument("--context", type=Path, default=Path("."), help="build context (default: the repository)")
    container.add_argument("--results", type=Path, default=Path("reports") / "container",
                           help="where the container's reports land (default reports/container)")
    container.set_defaults(run=main_container)
    cluster = commands.add_parser("cluster", help="run a command on every node of a Slurm cluster and merge the results")
    cluster.add_argument("--partition", help="Slurm partition (sbatch --partition)")
    where = cluster.add_mutually_exclusive_group()
    where.add_argument("--nodes", type=positive, default=2, help="how many nodes, one array task each (default 2)")
    where.add_argument("--nodelist", help="these nodes, comma-separated (one task each)")
    cluster.add_argument("--time", help="time limit per task (sbatch --time, e.g. 01:00:00)")
    cluster.add_argument("--account", help="account to charge (sbatch --account)")
    cluster.add_argument("--constraint", help="node features required (sbatch --constraint)")
    cluster.add_argument("--resume", metavar="JOB", help="follow and merge an earlier job again; submits nothing")
    cluster.add_argument("--poll", type=float, default=5.0, metavar="SECONDS", help="how often to ask squeue (default 5)")
    cluster.add_argument("--results", type=Path, default=Path("reports") / "cluster",
                         help="where each job's directory goes (default reports/cluster); must be shared by the nodes")
    cluster.add_argument("command", nargs="?", choices=list(COMMANDS), help="what each node runs")
    cluster.add_argument("arguments", nargs=argparse.REMAINDER, help="that command's own options")
    cluster.set_defaults(run=command_cluster)
    report = commands.add_parser("report", help="render the Markdown reports again from the JSON results (a directory "
                                 "that exists: nothing is created)")
    report.set_defaults(run=command_report)
    for sub in (build, scaling, bench, threadmap, report, variants):
        sub.add_argument("--results", type=Path, default=Path("reports"), help="results and reports directory (default reports)")
        sub.add_argument("--no-wait", action="store_true",
                         help="stop at once when another run is writing to the same --results directory (default: wait for it)")
    return parser


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    # A scheduler's, `timeout`'s or `docker stop`'s SIGTERM, and a closed terminal's SIGHUP, end a run as
    # Ctrl-C does: what was measured is kept and reported.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, interrupt)
    try:
        # one run at a time writes a results directory: two would measure under each other's load
        with (one_writer(args.results, f"python -m blasbench {' '.join(argv)}", not args.no_wait, args.run != command_report)
              if hasattr(args, "no_wait") else contextlib.nullcontext()):
            return args.run(args)
    except (UserError, WorkloadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: results measured so far are kept; run the same command again to continue.", file=sys.stderr)
        return 130
