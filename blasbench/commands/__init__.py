"""The commands of ``python -m blasbench``, one module each with its options beside its code (asv's
``commands/``); the options several share are in :mod:`.options`. The order here is the order of
``--help``.
"""

from . import bench, build, cluster, compare, container, report, scaling, threadmap, wheelhouse

COMMANDS = (build, wheelhouse, scaling, compare, bench, threadmap, container, cluster, report)
