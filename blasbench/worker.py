"""``python -m blasbench.worker train ...``: the workload's own command line (``python -m nn``),
with the harness's full provenance recorded in its result. The sweeps start it as their child."""

from __future__ import annotations

import sys

from nn.__main__ import main as train_main

from . import provenance


def main(argv: list[str] | None = None) -> int:
    return train_main(argv, environment=provenance.collect)


if __name__ == "__main__":
    sys.exit(main())
