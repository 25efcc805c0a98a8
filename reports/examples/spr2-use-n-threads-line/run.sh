#!/bin/sh
# The "use N threads" advice at its line: at_the_line.py's call, whose second thread cuts its time by about
# 10% (the sort's length m setting the share threads cannot help), swept five times at each of four lengths,
# a sweep of each length in turn. From a clean clone (commit dbdc410) with at_the_line.py copied to its root and
# PyPI's NumPy 2.4.6 / SciPy 1.17.1 installed: sh run.sh OUT; then python summary.py OUT
set -e
out=$1
for turn in 1 2 3 4 5; do
  for m in 800000 850000 900000 950000; do
    python -m blasbench scaling --installed --allow-busy --workload at_the_line.py:product_and_sort \
      --workload-args "{\"m\": $m}" --repeats 5 --results "$out/m$m-$turn" > "$out/m$m-$turn.log" 2>&1
  done
done
