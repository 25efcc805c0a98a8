"""``python -m blasbench wheelhouse export|import|list``: carry builds made once to other machines
(a cluster's nodes, a container, a CI runner) as one tar file.

An import checks every entry before any appears: its key is the hash of its recorded inputs,
its wheel and every member match their sha256, and the inputs this machine decides (Python,
platform, libc, compilers, build tools) are this machine's. Entries are then renamed into the
wheelhouse one by one, each whole, as builds are; a key already there is left as it is.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import tempfile
from pathlib import Path

from .. import UserError
from ..store import digest, file_sha256, read_json
from .build import MANIFEST, machine_inputs, wheelhouse
from .wheels import wheel_members

CONTENTS = "blasbench-export.json"  # written last: an archive cut short lacks it


def entries() -> list[Path]:
    """The finished entries of this machine's wheelhouse (staging directories start with a dot)."""
    root = wheelhouse()
    return sorted(p for p in root.glob("[!.]*") if (p / MANIFEST).exists()) if root.is_dir() else []


def export(archive: Path, prefixes: list[str]) -> list[str]:
    """Write the entries whose name or key starts with one of ``prefixes`` (all when none) into
    ``archive``, atomically; returns their names."""
    chosen = [e for e in entries() if not prefixes or any(
        e.name.startswith(p) or read_json(e / MANIFEST)["key"].startswith(p) for p in prefixes)]
    if not chosen:
        raise UserError(f"no wheelhouse entry in {wheelhouse()} matches {' '.join(prefixes) or 'anything'}: "
                        "build first (`python3 -m nox -s build-openblas`), or see `python -m blasbench wheelhouse list`.")
    archive.parent.mkdir(parents=True, exist_ok=True)
    partial = archive.with_name(f".{archive.name}.partial{os.getpid()}")
    try:
        with tarfile.open(partial, "w") as tar:
            for entry in chosen:
                tar.add(entry, arcname=entry.name)
            contents = json.dumps({"entries": [e.name for e in chosen]}).encode()
            info = tarfile.TarInfo(CONTENTS)
            info.size = len(contents)
            tar.addfile(info, io.BytesIO(contents))
        os.replace(partial, archive)
    finally:
        partial.unlink(missing_ok=True)
    return [e.name for e in chosen]


def check_entry(entry: Path, here: dict) -> str | None:
    """What is wrong with an unpacked entry, in words, or None."""
    try:
        manifest = read_json(entry / MANIFEST)
        key, inputs, wheel = manifest["key"], manifest["inputs"], entry / manifest["wheel"]
    except (OSError, ValueError, KeyError) as e:
        return f"its {MANIFEST} is missing or unreadable ({e})"
    if digest(inputs) != key:
        return "its key is not the hash of its recorded inputs (edited or damaged)"
    if entry.name != f"{manifest['package']}-{manifest['version']}-{key[:16]}":
        return "its directory name does not match its key"
    if not wheel.is_file() or file_sha256(wheel) != manifest["wheel_sha256"]:
        return f"{manifest['wheel']} is missing or does not match its sha256"
    if "members" in manifest and wheel_members(wheel) != manifest["members"]:
        return "a member of its wheel does not match its recorded sha256"
    for name, value in here.items():
        if inputs.get(name) != value:
            return f"it was built for {name} {inputs.get(name)!r}, and this machine has {value!r}"
    return None


def import_(archive: Path) -> tuple[list[str], list[str]]:
    """Unpack ``archive`` beside the wheelhouse, check every entry, then rename each into place.
    Returns (imported, already here). One bad entry refuses the whole archive."""
    if not archive.is_file():
        raise UserError(f"{archive} does not exist: pass the file `wheelhouse export` wrote.")
    root = wheelhouse()
    root.mkdir(parents=True, exist_ok=True)
    here = machine_inputs()
    with tempfile.TemporaryDirectory(dir=root, prefix=".import-") as tmp:
        try:
            with tarfile.open(archive) as tar:
                tar.extractall(tmp, filter="data")
        except (tarfile.TarError, EOFError, OSError) as e:
            raise UserError(f"{archive} cannot be unpacked ({e}): it is truncated or not an export; "
                            "export it again.") from None
        listed = Path(tmp) / CONTENTS
        unpacked = sorted(p for p in Path(tmp).iterdir() if p != listed)
        if not listed.exists() or json.loads(listed.read_text())["entries"] != [p.name for p in unpacked]:
            raise UserError(f"{archive} is cut short or not an export (its closing list of entries is missing or "
                            "does not match): export it again.")
        for entry in unpacked:
            if problem := check_entry(entry, here):
                raise UserError(f"{archive}: entry {entry.name} is refused: {problem}. Nothing was imported; "
                                "export it again from a machine of this kind, or build here.")
        imported, present = [], []
        for entry in unpacked:
            target = root / entry.name
            if (target / MANIFEST).exists():
                present.append(entry.name)
                continue
            shutil.rmtree(target, ignore_errors=True)
            os.replace(entry, target)
            imported.append(entry.name)
    return imported, present


def listing() -> list[str]:
    lines = []
    for entry in entries():
        manifest = read_json(entry / MANIFEST)
        blas = manifest["inputs"]["openblas"]  # key inputs keep their first spelling (see key_material)
        lines.append(f"{entry.name}  {blas['provider']}-{blas['variant']}  wheel sha256 {manifest['wheel_sha256'][:16]}"
                     f"  built {manifest.get('built_at', '?')}")
    return lines
