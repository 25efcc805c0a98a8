"""``python -m blasbench COMMAND``: what the nox sessions call. Each command is a module of
:mod:`blasbench.commands`; this module only puts them together and runs one."""

from __future__ import annotations

import contextlib
import signal
import sys

from nn import WorkloadError
from nn.options import Parser

from . import UserError
from .commands import COMMANDS
from .commands.report import command_report
from .store import one_writer


def build_parser() -> Parser:
    parser = Parser(prog="python -m blasbench",
                    epilog="Is the BLAS of any environment's NumPy parallel? `python -m blasbench.verify` checks it "
                           "(exit 0 passed, 1 failed, 3 machine busy). `python -m blasbench COMMAND --help` lists a "
                           "command's options with their defaults.")
    parser.set_defaults(check_reproducible=None)  # what the commands that build but cannot take it see
    commands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(commands)
    return parser


# Spellings of earlier versions, each refused in one line naming the one that replaced it.
RENAMED = {
    "--provider": "--setup KIND[:FLAVOUR] (e.g. --setup system:openmp, --setup scipy-openblas)",
    "--flavour": "--setup KIND:FLAVOUR (e.g. --setup system:serial, --setup blis:openmp)",
    "--site-cfg": "--setup site-cfg:PATH",
    "--installed": "--setup installed",
    "--variants": "--setup KIND ... (e.g. --setup system:pthread blis mkl)",
    "--openblas-releases": "--setup scipy-openblas:LOW..HIGH (and system:pthread or source beside it)",
    "--numpy-releases": "--setup pypi:LOW..HIGH",
    "--tag": "the image's tag, blasbench:FLAVOUR",
    "--base": "the base image, always made or found as debian:bookworm-slim",
    "--mirror": "the host's own Debian mirror, which --local-base reads",
    "--extra-ca": "the host's extra CA certificates, which --local-base adds where there are any",
    "--context": "the repository, which the image is always built from (run from its root)",
    "--output": "--results DIR",
    "--numpy": "the setup's +numpy==RELEASE (e.g. --setup system:pthread+numpy==2.3.5)",
    "--scipy": "the setup's +scipy==RELEASE (e.g. --setup system:pthread+scipy==1.16.3)",
    "--make": "the setup's +KEY=VALUE (e.g. --setup source+TARGET=ZEN+USE_OPENMP=1)",
    "--oversubscribe": "--threads above the usable cores are measured as asked",
    "--profile-iterations": "--iterations, the profile's too",
    "--numpy-only": "the setup's +numpy-only (e.g. --setup blis+numpy-only)",
    "--partition": "sbatch's own SBATCH_PARTITION=NAME in the environment",
    "--account": "sbatch's own SBATCH_ACCOUNT=NAME in the environment",
    "--time": "sbatch's own SBATCH_TIMELIMIT=LIMIT in the environment",
    "--constraint": "sbatch's own SBATCH_CONSTRAINT=FEATURES in the environment",
    "--no-wait": "a second run into the same --results waits for the first, saying which (Ctrl-C stops it)",
}
# Commands that are gone, and what does their work now.
RENAMED_COMMANDS = {"compare-variants": "several setups side by side are `scaling --setup A B ...` (their sweeps) and "
                                        "`threadmap --setup A B ...` (their maps), e.g. scaling --setup system:pthread pypi blis"}
# ... and those renamed in one command only, where the name meant something else than in the others.
RENAMED_IN = {("threadmap", "--max-seconds"): "--call-limit SECONDS", ("bench", "--repeats"): "--evaluations N"}


def renamed(argv: list[str]) -> str | None:
    """The one-line refusal of an earlier version's spelling in ``argv``, or None."""
    if argv and argv[0] in RENAMED_COMMANDS:
        return f"{argv[0]} is gone: {RENAMED_COMMANDS[argv[0]]}."
    for i, word in enumerate(argv):
        option = word.split("=", 1)[0]
        if option in RENAMED:
            return f"{option} is gone: {RENAMED[option]}."
        if (argv[0], option) in RENAMED_IN:
            return f"{argv[0]} {option} is gone: {RENAMED_IN[argv[0], option]}."
        if option == "--bisect" and ("=" in word or (i + 1 < len(argv) and ".." in argv[i + 1]
                                                     and not argv[i + 1].startswith("-"))):
            return ("--bisect takes no range now: give the range as the setup, e.g. "
                    "--setup scipy-openblas:0.3.26..0.3.34 --bisect.")
    return None


def interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if refusal := renamed(argv):
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    # A scheduler's, `timeout`'s or `docker stop`'s SIGTERM, and a closed terminal's SIGHUP, end a run as
    # Ctrl-C does: what was measured is kept and reported.
    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, interrupt)
    try:
        # one run at a time writes a results directory: two would measure under each other's load
        with (one_writer(args.results, f"python -m blasbench {' '.join(argv)}", args.run != command_report)
              if getattr(args, "one_writer", False) else contextlib.nullcontext()):
            return args.run(args)
    except (UserError, WorkloadError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: results measured so far are kept; run the same command again to continue.", file=sys.stderr)
        return 130


def run() -> None:
    """The ``blasbench`` command (``pip install .`` or ``pipx install .``): :func:`main`'s status as the exit status."""
    sys.exit(main())
