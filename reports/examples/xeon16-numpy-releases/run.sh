#!/bin/bash
# The many-core measurement, run once on the lent 16-core machine from the repository root:
# NumPy's calls over sizes and thread counts (1, 2, 4, ..., the cores) under three of PyPI's NumPy
# releases (each with the OpenBLAS it bundles) as a release axis, then under the NumPy installed there.
# Offline: pip takes the carried wheels in .whl/. Usage: OUT=dir [PY=python3] [SPEC=...] bash .whl/run.sh
set -u
PY=${PY:-python3}
WHL=$PWD/.whl
export PYTHONUNBUFFERED=1 BLASBENCH_CACHE=/tmp/bbcache PIP_NO_INDEX=1 PIP_FIND_LINKS=$WHL \
       PIP_DISABLE_PIP_VERSION_CHECK=1 BLASBENCH_COMMIT=$(cat $WHL/commit)
R=/tmp/r16; rm -rf $R; mkdir -p $R
RELEASES=${RELEASES:-1.26.4,2.0.2,2.2.6}
MAP=(--calls "a @ b" "a @ b tall-skinny" "a @ v" solve eigh --sizes ${SIZES:-16 64 256 1024} --allow-busy)
[ -n "${THREADS:-}" ] && MAP+=(--threads $THREADS)
{ date -u; nproc; lscpu; free -g; uptime; $PY -VV
  $PY -c 'import json, numpy, scipy, threadpoolctl; print("numpy", numpy.__version__, "scipy", scipy.__version__); print(json.dumps(threadpoolctl.threadpool_info(), indent=1))'
  $PY -m pip --version; command -v uv gcc; } > $OUT/machine.txt 2>&1
t0=$(date +%s)
if [ -z "${FORCE_TARGET:-}" ] && $PY -m venv /tmp/venv-check && /tmp/venv-check/bin/python -m pip --version; then
  timeout -s INT -k 30 ${AXIS_S:-400} $PY -m blasbench threadmap --numpy-releases $RELEASES --numpy-only "${MAP[@]}" \
    --results $R/numpy-releases 2>&1 | tee $OUT/numpy-releases.log
else
  echo "no venv here: each release's wheel into its own --target, measured with --installed" | tee $OUT/numpy-releases.log
  for v in ${RELEASES//,/ }; do
    $PY -m pip install -q --no-deps --target /tmp/np-$v $WHL/numpy-$v-*.whl &&
    PYTHONPATH=/tmp/np-$v timeout -s INT -k 30 130 $PY -m blasbench threadmap --installed "${MAP[@]}" \
      --results $R/numpy-$v 2>&1 | tee -a $OUT/numpy-releases.log
  done
fi
echo "release maps: $(( $(date +%s) - t0 )) s" | tee -a $OUT/machine.txt
left=$(( ${TOTAL_S:-560} - ($(date +%s) - t0) ))
[ $left -gt 60 ] && timeout -s INT -k 20 $left $PY -m blasbench threadmap --installed "${MAP[@]}" \
  --results $R/installed 2>&1 | tee $OUT/installed.log
echo "all: $(( $(date +%s) - t0 )) s" | tee -a $OUT/machine.txt
tar -C $R --exclude='*.lock' -czf $OUT/results.tar.gz .
