"""BLAS providers: each one knows how to make its library available and how to describe it
to pkg-config and meson. Nothing else in the project knows those details.

- ``system``: Debian/Ubuntu's OpenBLAS in one of its threading flavours (pthread, openmp, serial).
- ``scipy-openblas``: the ``scipy-openblas32`` wheel SciPy releases with.
- ``source``: OpenBLAS compiled here from a Debian suite's source package with the user's make options.
- ``site-cfg``: a custom prefix described by a classic NumPy ``site.cfg`` ``[openblas]`` section.
- ``reference``: not OpenBLAS but Debian's reference BLAS/LAPACK (netlib), the no-optimisation
  floor that the comparisons measure OpenBLAS against.
- ``blis`` and ``mkl``: not OpenBLAS either, the rivals: Debian's BLIS and Intel's oneMKL from PyPI.

One module per family (:mod:`.debian`, :mod:`.pypi`, :mod:`.source`, :mod:`.sitecfg`) on one base
(:mod:`.base`); the registry is here.
"""

from __future__ import annotations

from pathlib import Path

from ... import UserError
from .base import BLASLibrary, Provider, describe_library, render_pc
from .debian import SYSTEM_FLAVOURS, BLISProvider, ReferenceProvider, SystemProvider
from .pypi import MKLProvider, ScipyOpenBLASProvider
from .sitecfg import SiteCfgProvider, parse_site_cfg
from .source import PORTABLE_TARGET, SourceProvider, compile_hint, parse_make_options

__all__ = ["PROVIDERS", "SYSTEM_FLAVOURS", "PORTABLE_TARGET", "BLASLibrary", "Provider", "get_provider", "setup_provider",
           "providers_help",
           "describe_library", "render_pc", "parse_site_cfg", "parse_make_options", "compile_hint", "BLISProvider",
           "MKLProvider", "ReferenceProvider", "ScipyOpenBLASProvider", "SiteCfgProvider", "SourceProvider", "SystemProvider"]

# Every provider, by name (threadpoolctl's _ALL_CONTROLLERS): nothing else lists them.
PROVIDERS: dict[str, type[Provider]] = {cls.name: cls for cls in (SystemProvider, ScipyOpenBLASProvider,
                                                                   SourceProvider, SiteCfgProvider, ReferenceProvider,
                                                                   BLISProvider, MKLProvider)}


def get_provider(name: str, flavour: str | None = None, site_cfg: Path | None = None,
                 make: tuple[str, ...] = ()) -> Provider:
    """The provider ``name`` with its ``flavour`` (its default when None) and options, checked."""
    if name not in PROVIDERS:
        raise UserError(f"Unknown provider {name!r}: choose one of {', '.join(PROVIDERS)}.")
    cls = PROVIDERS[name]
    if flavour is not None and flavour not in cls.flavours:
        choices = f"choose one of {', '.join(cls.flavours)}" if cls.flavours else f"it has none: write {name}"
        raise UserError(f"--setup {name}:{flavour}: {name} has no flavour {flavour!r}; {choices}.")
    if make and name != "source":
        raise UserError(f"make variables set how OpenBLAS is compiled: only for --setup source, not {name}.")
    return cls.from_options(flavour or (cls.flavours[0] if cls.flavours else ""), site_cfg, tuple(make))


def setup_provider(setup) -> Provider:
    """The provider a built setup (:class:`blasbench.setups.Setup`) compiles against, with its flavour,
    site.cfg or make variables, checked (not yet made available)."""
    site_cfg = Path(setup.option) if setup.kind == "site-cfg" else None
    return get_provider(setup.of.provider, setup.flavour, site_cfg, setup.make)


def providers_help() -> str:
    return "; ".join(f"{name}: {cls.summary}" + (f" (flavours {', '.join(cls.flavours)}; default {cls.flavours[0]})"
                                                   if cls.flavours else "") for name, cls in PROVIDERS.items())
