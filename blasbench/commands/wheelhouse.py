"""``wheelhouse export|import|list``: builds carried between machines as one tar file."""

from __future__ import annotations

import json
from pathlib import Path

from .. import UserError
from ..building.build import wheelhouse
from ..building.wheelhouse import export, import_, listing
from .options import Listed


def command_wheelhouse(args) -> int:
    if args.action != "list" and args.archive is None:
        raise UserError(f"wheelhouse {args.action} needs the tar file: python -m blasbench wheelhouse {args.action} FILE.tar")
    if args.action == "export":
        names = export(args.archive, args.keys)
        print(f"wrote {args.archive}: {len(names)} entries ({', '.join(names)})")
    elif args.action == "import":
        imported, present = import_(args.archive)
        print(json.dumps({"imported": imported, "already here": present}, indent=1))
    else:
        print("\n".join(listing()) or f"the wheelhouse ({wheelhouse()}) is empty")
    return 0


def register(commands) -> None:
    wheels = commands.add_parser("wheelhouse", help="export builds to a tar file, import them on another machine, list them")
    wheels.add_argument("action", choices=("export", "import", "list"))
    wheels.add_argument("archive", type=Path, nargs="?", help="the tar file to write (export) or read (import)")
    wheels.add_argument("--keys", action=Listed, default=[], metavar="PREFIX",
                        help="export only entries whose name or key starts with one of these (default: all)")
    wheels.set_defaults(run=command_wheelhouse)
