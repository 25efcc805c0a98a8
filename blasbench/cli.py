"""``python -m blasbench COMMAND``: what the nox sessions call."""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from . import UserError, pins
from .build import build_all, install
from .providers import SYSTEM_VARIANTS, get_provider
from .report import render_all
from .store import read_json, write_json


def add_build_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("build")
    group.add_argument("--provider", choices=("system", "scipy-openblas", "site-cfg"), default="system")
    group.add_argument("--variant", help=f"system: {', '.join(SYSTEM_VARIANTS)} (default pthread); "
                                         "scipy-openblas: ilp64 (default) or lp64")
    group.add_argument("--site-cfg", type=Path, help="with --provider site-cfg: the site.cfg to read (default ./site.cfg)")
    group.add_argument("--numpy", default=pins.NUMPY, help=f"NumPy version to build (default {pins.NUMPY})")
    group.add_argument("--scipy", default=pins.SCIPY, help=f"SciPy version to build (default {pins.SCIPY})")


def verify_in_fresh_process(openblas, output: Path) -> dict:
    """The verification runs in a new interpreter of this environment, as a user's would."""
    command = [sys.executable, "-m", "blasbench.verify", "--library", openblas.library,
               "--threading", openblas.threading_layer, "--json", str(output)]
    subprocess.run(command)
    return read_json(output)


def ensure_build(args: argparse.Namespace) -> dict:
    """Build (or reuse) and install the wheels into this environment, verify them and
    return the build result."""
    started = time.monotonic()
    openblas = get_provider(args.provider, args.variant, args.site_cfg).ensure()
    print(f"OpenBLAS: {openblas.label}, {openblas.version}, {openblas.threading_layer}, {openblas.library}", flush=True)
    wheels = build_all(openblas, args.numpy, args.scipy)
    install(wheels)
    with tempfile.TemporaryDirectory() as tmp:
        verification = verify_in_fresh_process(openblas, Path(tmp) / "verify.json")
    return {
        "kind": "build",
        "openblas": openblas.as_dict(),
        "meson_args": {w.package: openblas.meson_args(w.package) for w in wheels},
        "wheels": [{"package": w.package, "version": w.version, "key": w.key, "wheel": str(w.wheel),
                    "cached": w.cached, "seconds_this_run": round(w.seconds, 1), "manifest": w.manifest}
                   for w in wheels],
        "seconds_this_run": round(time.monotonic() - started, 1),
        "verification": verification,
        "environment": verification.get("environment"),
    }


def command_build(args: argparse.Namespace) -> int:
    result = ensure_build(args)
    write_json(args.results / "build.json", result)
    render_all(args.results)
    print(f"wrote {args.results / 'build.json'} and {args.results / 'build.md'}")
    if not result["verification"]["ok"]:
        raise UserError("the build is installed but verification failed (see above).")
    return 0


def command_report(args: argparse.Namespace) -> int:
    for path in render_all(args.results):
        print(f"wrote {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m blasbench")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="compile NumPy and SciPy against OpenBLAS, install, verify")
    add_build_options(build)
    build.set_defaults(run=command_build)
    report = commands.add_parser("report", help="render the Markdown reports again from the JSON results")
    report.set_defaults(run=command_report)
    for sub in (build, report):
        sub.add_argument("--results", type=Path, default=Path("reports"), help="results and reports directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: results measured so far are kept; run the same command again to continue.", file=sys.stderr)
        return 130
