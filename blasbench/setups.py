"""The BLAS setups compare-variants measures side by side, by name ("variants" in its options and
result files): each a provider with its option, or PyPI's own wheels. Data only: reports order and
name what they read from here without loading any provider.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import pins


@dataclass(frozen=True)
class Variant:
    """One BLAS setup: a provider to build against, or PyPI's wheels (provider None)."""

    name: str
    description: str
    provider: str | None = None
    flavour: str | None = None  # the provider's flavour


VARIANTS = {
    "system-pthread": Variant("system-pthread", "Debian OpenBLAS, pthreads", "system", "pthread"),
    "system-openmp": Variant("system-openmp", "Debian OpenBLAS, OpenMP", "system", "openmp"),
    "system-serial": Variant("system-serial", "Debian OpenBLAS, single-threaded", "system", "serial"),
    "scipy-openblas": Variant("scipy-openblas", "the OpenBLAS NumPy/SciPy release with (scipy-openblas32), "
                              "NumPy and SciPy built here", "scipy-openblas", "lp64"),
    "pypi": Variant("pypi", f"PyPI wheels numpy {pins.NUMPY} / scipy {pins.SCIPY} (bundled OpenBLAS)"),
    "blis": Variant("blis", "not OpenBLAS: Debian's BLIS (pthreads) with the reference LAPACK", "blis", "pthread"),
    "mkl": Variant("mkl", "not OpenBLAS: Intel oneMKL from PyPI, through mkl_rt", "mkl"),
    "reference": Variant("reference", "Debian reference BLAS/LAPACK (netlib): the floor", "reference"),
    "site-cfg": Variant("site-cfg", "the OpenBLAS prefix of site.cfg", "site-cfg"),
    "source": Variant("source", "OpenBLAS compiled here from Debian bookworm's source package (the provider's default TARGET)",
                      "source", "bookworm"),
}
# What `build-openblas` builds when not told otherwise: the default provider in its first flavour.
DEFAULT_VARIANT = "system-pthread"
DEFAULT_VARIANTS = ("system-pthread", "system-openmp", "system-serial", "scipy-openblas", "pypi", "blis", "mkl",
                    "reference")
