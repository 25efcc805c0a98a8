"""A custom OpenBLAS prefix, described in NumPy's classic ``site.cfg``; meson ignores that file,
so it is translated into a pkg-config file."""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from ... import UserError
from ...store import digest
from .base import BLASLibrary, Provider, describe_library, render_pc

SITE_CFG_KEYS = ("libraries", "library_dirs", "include_dirs", "runtime_library_dirs")


def parse_site_cfg(path: Path) -> dict[str, list[str]]:
    """Read the ``[openblas]`` section of a NumPy-style ``site.cfg``; lists are split on
    commas or ``os.pathsep`` as numpy.distutils did."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"site.cfg not found at {path}: copy site.cfg.example there and edit it.")
    parser = configparser.ConfigParser()
    try:
        parser.read(path)
    except configparser.Error as e:
        first_line = str(e).splitlines()[0]
        raise UserError(f"{path} is not a valid site.cfg ({first_line}): compare it with site.cfg.example.") from None
    if not parser.has_section("openblas"):
        raise UserError(f"{path} has no [openblas] section: see site.cfg.example.")
    section = parser["openblas"]
    unknown = sorted(set(section) - set(SITE_CFG_KEYS))
    if unknown:
        raise UserError(f"{path}: unknown key(s) {', '.join(unknown)} in [openblas]; allowed: {', '.join(SITE_CFG_KEYS)}.")
    values = {}
    for key in SITE_CFG_KEYS:
        raw = section.get(key, "")
        values[key] = [os.path.expanduser(item.strip()) for item in raw.replace(os.pathsep, ",").split(",") if item.strip()]
    if not values["libraries"]:
        values["libraries"] = ["openblas"]
    if not values["library_dirs"]:
        raise UserError(f"{path}: [openblas] needs library_dirs = <prefix>/lib.")
    values["runtime_library_dirs"] = values["runtime_library_dirs"] or values["library_dirs"]
    for key in ("library_dirs", "include_dirs", "runtime_library_dirs"):
        for directory in values[key]:
            if not Path(directory).is_dir():
                raise UserError(f"{path}: {key} names {directory}, which is not a directory.")
    return values


class SiteCfgProvider(Provider):
    """A custom OpenBLAS prefix described in ``site.cfg``. Meson ignores site.cfg, so it is
    translated into a pkg-config file whose RUNPATH points at ``runtime_library_dirs``."""

    name = "site-cfg"
    summary = "your own OpenBLAS prefix, described in a classic site.cfg (--setup site-cfg:PATH)"

    @classmethod
    def from_options(cls, flavour: str, site_cfg: Path | None, make: tuple[str, ...] = ()) -> Provider:
        return cls(site_cfg or Path("site.cfg"))

    def __init__(self, path: Path):
        self.path = Path(path).resolve()

    def library(self, cfg: dict[str, list[str]]) -> Path:
        name = cfg["libraries"][0]
        for directory in cfg["library_dirs"]:
            candidate = Path(directory) / f"lib{name}.so"
            if candidate.exists():
                return candidate
        raise UserError(f"{self.path}: no lib{name}.so in {', '.join(cfg['library_dirs'])}; fix library_dirs or libraries.")

    def ensure(self) -> BLASLibrary:
        cfg = parse_site_cfg(self.path)
        library = self.library(cfg)
        info = describe_library(library)
        pc_text = render_pc("openblas", info["version"], cfg["library_dirs"], cfg["libraries"],
                            cfg["include_dirs"], cfg["runtime_library_dirs"])
        return self.finish("custom", "openblas", "site-cfg-" + digest(str(self.path))[:12], pc_text, library, **info)
