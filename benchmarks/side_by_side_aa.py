"""The verdicts of several setups side by side, measured where the truth is known: the same BLAS twice.

Two setups that load the very same library file, Debian's pthread OpenBLAS: ``system:pthread`` and a
``site-cfg`` describing Debian's own prefix (NumPy built twice, against the same file), both NumPy
alone. ``scaling --setup A B --workload ...`` measures them side by side RUNS times, each run into its
own directory under OUT, the runs alternating between a function whose threads pay (a large matrix
product) and one whose threads hurt (small solves). Prints:

- the side-by-side verdict on the next setup against the fastest, at one and at all threads: every
  "slower" or "faster" is a false alarm (the two are one binary), "within noise" is right, "undecided"
  is the rule asking for more repeats;
- the "use N threads" advice of each sweep: how often the two setups of one run agree, and how often
  one setup's advice is the same in consecutive runs of the same function (each pair of sweeps is an
  A/A of the advice), with the step's speedup so that a pair near the rule's line shows as such;
- the CPU and each run's time.

    python benchmarks/side_by_side_aa.py OUT RUNS        # measure (OUT is kept), then print
    python benchmarks/side_by_side_aa.py OUT --again     # print again from OUT
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from blasbench.cli import main
from blasbench.results.directory import Results
from blasbench.results.kinds import read_result
from blasbench.results.kinds.scaling import analyse_scaling

PREFIX = "/usr/lib/x86_64-linux-gnu/openblas-pthread"  # Debian's libopenblas-pthread-dev, as system:pthread links it
INCLUDE = "/usr/include/x86_64-linux-gnu/openblas-pthread"
# (workload, its arguments): threads pay for the first, hurt the second (OpenBLAS issue 4387)
FUNCTIONS = (("examples/large_matmul.py:matmul", '{"n": 1000}'), ("examples/small_solves.py:solve_many", '{"count": 200}'))


def measure(out: Path, runs: int) -> list[float]:
    site_cfg = out / "site.cfg"
    out.mkdir(parents=True, exist_ok=True)
    site_cfg.write_text(f"[openblas]\nlibraries = openblas\nlibrary_dirs = {PREFIX}\ninclude_dirs = {INCLUDE}\n")
    seconds = []
    for run in range(runs):
        workload, arguments = FUNCTIONS[run % len(FUNCTIONS)]
        started = time.perf_counter()
        code = main(["scaling", "--setup", "system:pthread+numpy-only", f"site-cfg:{site_cfg}+numpy-only",
                     "--workload", workload, "--workload-args", arguments, "--threads", "1,2", "--allow-busy",
                     "--results", str(out / f"run{run}")])
        if code != 0:
            raise SystemExit(f"run {run} failed (exit {code})")
        seconds.append(time.perf_counter() - started)
    return seconds


def advice(directory: Path) -> dict[str, tuple[int, bool, float]]:
    """Each setup's advice in one run: (threads, provisional, the 2-thread step's speedup)."""
    found = {}
    for path in sorted(directory.glob("variants/*/scaling.json")):
        [analysis] = analyse_scaling(read_result(path, "scaling")).values()
        rows = analysis["rows"]
        found[path.parent.name] = (analysis["recommendation"]["threads"], analysis["recommendation"]["provisional"],
                                   rows[0]["wall"]["median"] / rows[-1]["wall"]["median"])
    return found


def report(out: Path, seconds: list[float] = ()) -> None:
    runs = sorted((d for d in out.glob("run*") if d.is_dir()), key=lambda d: int(d.name[3:]))
    verdicts, same_binary = [], 0
    for directory in runs:
        found = Results.load(directory).findings["variant"]
        verdicts += [found["comparison"][end]["verdict"] for end in ("one", "all")]
        same_binary += bool(found["comparison"]["same_binary"])
    print(f"side by side, the same BLAS twice, {len(runs)} runs ({same_binary} found the one binary by its sha256): "
          + ", ".join(f"{word} {verdicts.count(word)}" for word in sorted(set(verdicts)))
          + f" of {len(verdicts)} verdicts on the next against the fastest (false alarms: "
          f"{sum(v in ('slower', 'faster') for v in verdicts)})")
    advised = [advice(directory) for directory in runs]
    within = [len({threads for threads, _, _ in run.values()}) == 1 for run in advised]
    print(f"advice, the two setups of one run: the same in {sum(within)} of {len(within)} runs")
    pairs = agreeing = 0
    for offset, (workload, _) in enumerate(FUNCTIONS):
        same_function = advised[offset::len(FUNCTIONS)]
        for first, second in zip(same_function, same_function[1:]):
            for name in first.keys() & second.keys():
                pairs += 1
                agreeing += first[name][0] == second[name][0]
        steps = [step for run in same_function for _, _, step in run.values()]
        counts = [threads for run in same_function for threads, _, _ in run.values()]
        provisional = sum(p for run in same_function for _, p, _ in run.values())
        if steps:
            print(f"  {workload}: advice {', '.join(f'{t} thread(s) {counts.count(t)}x' for t in sorted(set(counts)))}; "
                  f"2-thread step {min(steps):.3f}x to {max(steps):.3f}x; {provisional} provisional")
    print(f"advice, one setup in consecutive runs of the same function: the same in {agreeing} of {pairs} pairs")
    if runs:
        environment = read_result(next(runs[0].glob("variants/*/scaling.json")), "scaling")["environment"]
        print(f"CPU: {environment['cpu']['model']} ({environment['cpu']['usable_cores']} usable cores)")
    if seconds:
        print(f"run times: {min(seconds):.0f} to {max(seconds):.0f} s, {sum(seconds) / 60:.1f} min in all")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    out = Path(sys.argv[1])
    report(out, [] if sys.argv[2] == "--again" else measure(out, int(sys.argv[2])))
