"""``python -m blasbench.worker train ...``: the workload's own command line (``python -m nn``),
with the harness's full provenance recorded in its result. The sweeps start it as their child.
``--peer torch`` (first) trains the same network with PyTorch computing its cost and gradient."""

from __future__ import annotations

import sys

from nn.__main__ import main as train_main

from . import provenance
from .peers import trained_network


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[1:2] == ["--peer"]:
        return train_main([argv[0], *argv[3:]], environment=provenance.collect, network_class=trained_network(argv[2]))
    return train_main(argv, environment=provenance.collect)


if __name__ == "__main__":
    sys.exit(main())
