#!/bin/bash
# The rule for "changed" on many cores with ten rounds, run once on a lent machine from the repository
# root: the NumPy installed there mapped twice (a, a2) and with OPENBLAS_CORETYPE=Prescott (b, then b2
# if time is left), every map kept so that `benchmarks/change_rule.py OUT --again --rounds K` re-reads
# it with its first K rounds. Usage: OUT=dir [PY=python3] [TOTAL_S=520] bash .whl/run.sh
set -u
PY=${PY:-python3}
export PYTHONUNBUFFERED=1 BLASBENCH_CACHE=/tmp/bbcache BLASBENCH_COMMIT=$(cat .whl/commit)
MAP=(--calls "a @ b" "a @ b tall-skinny" "a @ v" solve eigh --sizes ${SIZES:-16 64 256 1024}
     --rounds ${ROUNDS:-10} --more-rounds 0 --allow-busy)
{ date -u; nproc; lscpu; free -g; uptime; $PY -VV
  $PY -c 'import json, numpy, threadpoolctl; print("numpy", numpy.__version__); print(json.dumps(threadpoolctl.threadpool_info(), indent=1))'
} > $OUT/machine.txt 2>&1
if ! $PY -c 'import tqdm, threadpoolctl' 2>/dev/null; then
  $PY -m venv --system-site-packages /tmp/v && /tmp/v/bin/python -m pip install -q --no-index --find-links .whl tqdm threadpoolctl
  PY=/tmp/v/bin/python
fi
t0=$(date +%s)
for name in ${NAMES:-a a2 b b2}; do
  left=$(( ${TOTAL_S:-520} - ($(date +%s) - t0) ))
  [ $left -lt ${LEAST_S:-120} ] && { echo "$name: not mapped, $left s left" | tee -a $OUT/machine.txt; break; }
  case $name in b*) export OPENBLAS_CORETYPE=Prescott;; esac
  s=$(date +%s)
  timeout -s INT -k 20 $left $PY -m blasbench threadmap --installed "${MAP[@]}" --results $OUT/$name > $OUT/$name.log 2>&1
  echo "$name: rc $? in $(( $(date +%s) - s )) s" | tee -a $OUT/machine.txt
done
uptime >> $OUT/machine.txt
