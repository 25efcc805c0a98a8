"""Every version this project builds or builds with, in one place."""

NUMPY = "2.4.6"
SCIPY = "1.17.1"

# sha256 of the sdists on PyPI; other versions are checked against the hash the index serves.
SDIST_SHA256 = {
    ("numpy", "2.4.6"): "f3a3570c4a2a16746ac2c31a7c7c7b0c186b95ce902e33db6f28094ed7387dda",
    ("scipy", "1.17.1"): "95d8e012d8cb8816c226aef832200b1d45109ed4464303e997c5b13122b297c0",
}

# One build environment serves both packages, so these satisfy NumPy's and
# SciPy's [build-system] requirements at once (SciPy 1.17 caps meson-python < 0.21, Cython < 3.3).
BUILD_TOOLS = (
    "meson-python==0.20.0",
    "meson==1.10.2",
    "ninja==1.13.0",
    "Cython==3.2.9",
    "pybind11==3.0.4",
    "pythran==0.18.1",
)

# The package's own dependencies at the versions blasbench is tested with (pyproject.toml gives ranges),
# installed with it into every environment it makes.
PROJECT = ("threadpoolctl==3.6.0", "tqdm==4.70.1")

# Installed beside the built wheels, numpy/scipy constrained to the built versions. pyproject.toml's
# dependency groups name these and PROJECT again for the sessions, which cannot read this file; a test
# keeps the two spellings equal.
RUNTIME = (
    "numexpr==2.14.2",
    "matplotlib==3.10.9",
)

SCIPY_OPENBLAS = {"scipy-openblas32": "0.3.34.481.3"}

# Intel oneMKL for the ``mkl`` rival, installed without dependencies into the cache; mkl_rt's
# default threading layer needs Intel's OpenMP runtime.
MKL = ("mkl-devel==2026.2.0", "mkl==2026.2.0", "intel-openmp==2026.2.0")
