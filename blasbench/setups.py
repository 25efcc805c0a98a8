"""Setups: what a measurement runs on, NumPy/SciPy and the BLAS under them, spelt one way in every
command (``--setup``), report and result as ``KIND[:OPTION]``:

=====================  ======================================================================
``installed``          the NumPy/SciPy of the environment blasbench runs in; nothing built
``system:pthread``     NumPy/SciPy built here against Debian's OpenBLAS (``openmp``, ``serial``)
``scipy-openblas``     built against the ``scipy-openblas32`` wheel NumPy's and SciPy's own
                       wheels bundle; ``scipy-openblas:0.3.30`` or ``:0.3.26..0.3.34``: its
                       releases, each loaded under that one build
``pypi``               PyPI's NumPy and SciPy wheels as pinned; ``pypi:1.26..2.4`` or
                       ``pypi:2.0.2``: NumPy's releases as PyPI's wheels
``source``             built against OpenBLAS compiled here from Debian's source (``:trixie``)
``blis``, ``mkl``,     built against the rivals and the floor (``blis:openmp``)
``reference``
``site-cfg:PATH``      built against the prefix a ``site.cfg`` describes (default ``site.cfg``)
=====================  ======================================================================

Any setup can be NumPy alone, ``blis+numpy-only`` (no SciPy: minutes of compiling where SciPy takes
half an hour); a built setup takes the NumPy and SciPy releases it compiles,
``system:openmp+numpy==2.3.5+scipy==1.16.3`` (default the pinned ones), and ``source`` OpenBLAS's make
variables, ``source+TARGET=ZEN+USE_OPENMP=1``.

A kind (:data:`SETUP_KINDS`) knows its spelling, the provider it builds against (none for ``installed``
and ``pypi``), where it has releases, its series, and how its environment is made to be measured side by
side (:meth:`SetupKind.environment`, from the ways measuring offers); the provider knows its flavours.
Reports and result kinds read labels from here without loading any provider. A new kind is one
:class:`SetupKind` (a subclass where its environment is made otherwise) and :func:`register_setup_kind`.

Several setups side by side keep their names in result files (``variants/system-pthread/``):
:data:`VARIANTS` maps each name to its setup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from . import UserError, pins


@dataclass(frozen=True)
class SetupKind:
    """How one kind of setup is spelt and made: ``provider`` is the building provider it compiles
    against (None: nothing is built for it), ``option`` what follows its colon (a kind that takes a
    "release" has a release axis, whose points its versioned spellings are)."""

    name: str
    summary: str
    provider: str | None = None
    option: str = ""  # "flavour", "release", "path" or "" (none)
    default: str = ""  # the option when none is written

    def spelling(self) -> str:
        return {"flavour": f"{self.name}[:FLAVOUR]", "release": f"{self.name}[:RELEASE|LOW..HIGH]",
                "path": f"{self.name}[:PATH]"}.get(self.option, self.name)

    def environment(self, setup: Setup, name: str, make) -> dict:
        """The environment a setup of this kind is measured in, side by side with others, named ``name``:
        what was installed (``python``, the BLAS ``library`` built against, the ``wheels`` built). ``make``
        offers the ways (:class:`blasbench.measuring.variants.Make`): NumPy (and SciPy) built against the
        kind's provider, else PyPI's wheels of the setup's releases."""
        return make.built(setup, name) if self.provider else make.wheels(setup, name)


class Here(SetupKind):
    """The environment blasbench runs in, as it is: nothing built or installed."""

    def environment(self, setup: Setup, name: str, make) -> dict:
        return make.here(setup)


SETUP_KINDS: dict[str, SetupKind] = {kind.name: kind for kind in (
    Here("installed", "the NumPy/SciPy installed where blasbench runs (PyPI's wheels, conda's, a distribution's); "
         "nothing built"),
    SetupKind("system", "built against Debian's OpenBLAS (flavours pthread, openmp, serial)", "system", "flavour",
              default="pthread"),
    SetupKind("scipy-openblas", "built against the scipy-openblas32 wheel NumPy's and SciPy's wheels bundle; with a "
              "release or range, each release of it loaded under that one build", "scipy-openblas", "release"),
    SetupKind("pypi", f"PyPI's wheels (numpy {pins.NUMPY}, scipy {pins.SCIPY}); with a release or range, each NumPy "
              "release's wheel in an environment of its own", None, "release"),
    SetupKind("source", "built against OpenBLAS compiled here from Debian's source package (flavours bookworm, trixie)",
              "source", "flavour", default="bookworm"),
    SetupKind("blis", "not OpenBLAS: built against Debian's BLIS (flavours pthread, openmp)", "blis", "flavour",
              default="pthread"),
    SetupKind("mkl", "not OpenBLAS: built against Intel oneMKL from PyPI", "mkl"),
    SetupKind("reference", "not OpenBLAS: built against Debian's reference BLAS/LAPACK (netlib), the floor", "reference"),
    SetupKind("site-cfg", "built against the OpenBLAS prefix a site.cfg describes", "site-cfg", "path", default="site.cfg"),
)}

RELEASE = re.compile(r"\d+(\.\d+)*(\.\.\d+(\.\d+)*)?")


def register_setup_kind(kind: SetupKind) -> SetupKind:
    """Add a kind of setup: ``--setup`` parses it, and measuring side by side makes its environment, from here on."""
    if kind.name in SETUP_KINDS:
        raise ValueError(f"a setup kind named {kind.name!r} is registered already")
    SETUP_KINDS[kind.name] = kind
    return kind


@dataclass(frozen=True)
class Setup:
    """One setup: its kind, what follows the colon (a flavour, a release or range, a path; "" for none)
    and what follows a ``+``: ``numpy-only`` (NumPy alone: ``scipy`` is None) and, for a kind that is
    built, the NumPy and SciPy releases compiled (``+numpy==2.3.5``, ``+scipy==1.16.3``; default the
    pinned ones) and, for ``source``, OpenBLAS's make variables (``+TARGET=ZEN``)."""

    kind: str
    option: str = ""
    numpy: str = pins.NUMPY
    scipy: str | None = pins.SCIPY
    make: tuple[str, ...] = ()

    @property
    def spec(self) -> str:
        more = [*([f"numpy=={self.numpy}"] if self.numpy != pins.NUMPY else []),
                *(["numpy-only"] if self.scipy is None else [f"scipy=={self.scipy}"] if self.scipy != pins.SCIPY else []),
                *self.make]
        return "+".join([f"{self.kind}:{self.option}" if self.option else self.kind, *more])

    def __str__(self) -> str:
        return self.spec

    @property
    def of(self) -> SetupKind:
        return SETUP_KINDS[self.kind]

    @property
    def release(self) -> str | None:
        """The release (or range) of a versioned spelling: a point of the kind's series; None for a build."""
        return self.option if self.of.option == "release" and self.option else None

    @property
    def builds(self) -> bool:
        """Whether measuring it needs NumPy/SciPy compiled here (a scipy-openblas release does: the one build)."""
        return self.of.provider is not None

    @property
    def flavour(self) -> str | None:
        return self.option if self.of.option == "flavour" else None


def built_setup(library: dict, wheels: list[dict] = ()) -> Setup:
    """The setup a build's BLAS (``build.json``'s ``blas``: its provider and flavour) and ``wheels`` (the
    NumPy and SciPy releases compiled) were built as (its make variables are in the build's report)."""
    kind = SETUP_KINDS[library["provider"]]
    versions = {wheel["package"]: wheel["version"] for wheel in wheels if wheel["package"] in ("numpy", "scipy")}
    if wheels and "scipy" not in versions:
        versions["scipy"] = None  # NumPy alone
    return Setup(kind.name, (library.get("flavour") or "") if kind.option == "flavour" else "", **versions)


def kinds_help() -> str:
    return "; ".join(f"{kind.spelling()}: {kind.summary}" for kind in SETUP_KINDS.values())


def parse_setup(word: str) -> Setup:
    """``KIND[:OPTION][+BUILT...]`` as a :class:`Setup`, its default option written out (``system`` is
    ``system:pthread``); a kind that does not exist, or an option it cannot take, is one line naming the
    spellings that work."""
    head, *more = word.split("+")
    name, _, option = head.partition(":")
    if name not in SETUP_KINDS:
        raise UserError(f"--setup {word}: no setup kind {name!r}; the kinds: "
                        f"{', '.join(kind.spelling() for kind in SETUP_KINDS.values())}.")
    kind = SETUP_KINDS[name]
    if option and not kind.option:
        raise UserError(f"--setup {word}: {name} takes nothing after a colon: write {name}.")
    if kind.option == "release" and option and not RELEASE.fullmatch(option):
        raise UserError(f"--setup {word}: {option!r} is not a release (2.0, 0.3.28) or a range LOW..HIGH.")
    versions, make = {}, []
    for part in more:
        package, equals, version = part.partition("==")
        if part == "numpy-only":
            versions["scipy"] = None
        elif not kind.provider:
            raise UserError(f"--setup {word}: {name} compiles nothing, so only +numpy-only can follow it"
                            + ("; NumPy's releases are pypi:RELEASE." if name == "pypi" else "."))
        elif equals and package in ("numpy", "scipy") and RELEASE.fullmatch(version) and ".." not in version:
            versions[package] = version
        elif name == "source" and "=" in part and not equals:
            make.append(part)
        else:
            raise UserError(f"--setup {word}: {part!r} is not numpy-only, numpy==RELEASE or scipy==RELEASE"
                            + (" or an OpenBLAS make variable KEY=VALUE" if name == "source" else "")
                            + f", e.g. {name}+numpy==2.3.5.")
    if "numpy-only" in more and any(part.startswith("scipy==") for part in more):
        raise UserError(f"--setup {word}: NumPy alone builds no SciPy: drop +numpy-only or +scipy==.")
    return Setup(name, option or kind.default, make=tuple(make), **versions)


@dataclass(frozen=True)
class Variant:
    """One of the setups measured side by side, by the name its results are kept under."""

    name: str
    description: str
    setup: Setup

    @property
    def provider(self) -> str | None:
        return self.setup.of.provider

    def as_record(self) -> dict:
        """What a result file says of it."""
        return {"name": self.name, "description": self.description, "setup": self.setup.spec}

    @property
    def flavour(self) -> str | None:
        return self.setup.flavour


VARIANTS = {variant.name: variant for variant in (
    Variant("system-pthread", "Debian OpenBLAS, pthreads", Setup("system", "pthread")),
    Variant("system-openmp", "Debian OpenBLAS, OpenMP", Setup("system", "openmp")),
    Variant("system-serial", "Debian OpenBLAS, single-threaded", Setup("system", "serial")),
    Variant("scipy-openblas", "the OpenBLAS NumPy/SciPy release with (scipy-openblas32), NumPy and SciPy built here",
            Setup("scipy-openblas")),
    Variant("pypi", f"PyPI wheels numpy {pins.NUMPY} / scipy {pins.SCIPY} (bundled OpenBLAS)", Setup("pypi")),
    Variant("blis", "not OpenBLAS: Debian's BLIS (pthreads) with the reference LAPACK", Setup("blis", "pthread")),
    Variant("mkl", "not OpenBLAS: Intel oneMKL from PyPI, through mkl_rt", Setup("mkl")),
    Variant("reference", "Debian reference BLAS/LAPACK (netlib): the floor", Setup("reference")),
    Variant("site-cfg", "the OpenBLAS prefix of a site.cfg", Setup("site-cfg", "site.cfg")),
    Variant("source", "OpenBLAS compiled here from Debian bookworm's source package (the provider's default TARGET)",
            Setup("source", "bookworm")),
)}
# What `build-openblas` builds, and what the other setups are timed against, when not told otherwise.
DEFAULT_VARIANT = "system-pthread"
DEFAULT_SETUP = VARIANTS[DEFAULT_VARIANT].setup


def variant_of(setup: Setup) -> Variant:
    """The side-by-side setup ``setup`` is, with the releases and make variables it asks for (a site.cfg
    at any path is the variant ``site-cfg``); a setup no variant names is one by its kind and option
    (``blis-openmp``, ``installed``), described by its kind."""
    for variant in VARIANTS.values():
        if (variant.setup.kind, variant.setup.option) == (setup.kind, setup.option) or variant.name == setup.kind == "site-cfg":
            return replace(variant, setup=setup)
    return Variant("-".join(filter(None, (setup.kind, setup.option))), setup.of.summary, setup)
