"""The harness's overhead on a user's function: the seconds per call of a function of about 10 ms
as a sweep's point measures it (`python -m blasbench.measuring.worker call`: setup, warm-up, auto-ranged
calls) against `timeit` by hand (autorange, then the median of 5 repeats), each in a fresh process
at one thread, interleaved, ROUNDS of each. Prints both medians, their spreads and the ratio.

    python benchmarks/workload_overhead.py [ROUNDS]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

from blasbench import provenance
from blasbench.facts import THREAD_VARIABLES
from blasbench.measuring.workload import parse_workload

ROOT = Path(__file__).resolve().parent.parent
SPEC = f"{ROOT / 'examples' / 'large_matmul.py'}:matmul"
ARGS = '{"n": 600}'  # about 10 ms per call at one thread on a 2021-2023 x86 core

BY_HAND = """
import importlib.util, json, statistics, sys, timeit
spec = importlib.util.spec_from_file_location("m", sys.argv[1])
module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
kwargs = json.loads(sys.argv[2]); state = module.setup(**kwargs)
timer = timeit.Timer(lambda: module.matmul(state, **kwargs))
number, _ = timer.autorange()
print(statistics.median(t / number for t in timer.repeat(5, number)))
"""


def one_thread() -> dict:
    return {**os.environ, **{name: "1" for name in THREAD_VARIABLES}}


def by_hand() -> float:
    run = subprocess.run([sys.executable, "-c", BY_HAND, SPEC.rpartition(":")[0], ARGS], env=one_thread(),
                         capture_output=True, text=True, check=True)
    return float(run.stdout)


def harness(workload) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        output = Path(tmp) / "point.json"
        subprocess.run([sys.executable, "-m", "blasbench.measuring.worker", "call", "--workload", json.dumps(asdict(workload)),
                        "--json", str(output)], env=one_thread(), check=True, cwd=tmp)
        return json.loads(output.read_text())["seconds_per_call"]


def main(rounds: int) -> None:
    workload = parse_workload(SPEC, ARGS)
    hand, points = [], []
    for _ in range(rounds):  # interleaved: a drift of the machine shifts both alike
        hand.append(by_hand())
        points.append(harness(workload))
    env = provenance.collect()
    print(f"{env['cpu']['model']}, {env['cpu']['usable_cores']} usable cores, load average {env['load_average']}")
    for name, values in (("timeit by hand", hand), ("harness (worker call)", points)):
        print(f"{name:22s} median {statistics.median(values) * 1e3:.3f} ms per call, "
              f"range {min(values) * 1e3:.3f}–{max(values) * 1e3:.3f} ms over {rounds} processes")
    print(f"harness / by hand: {statistics.median(points) / statistics.median(hand):.4f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
