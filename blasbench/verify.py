"""``python -m blasbench.verify``: is the BLAS of this environment's NumPy parallel? The verifier's
command line, kept at the package's top for users; the verifier is :mod:`blasbench.building.verify`."""

from .building.verify import main

if __name__ == "__main__":
    raise SystemExit(main())
