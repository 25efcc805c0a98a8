"""The rule for "changed" (blasbench/results/change.py), measured on this machine: how often it cries
wolf and how often it sees a change that is there.

Four threading maps of the NumPy installed in this environment, one after another, each in its own
directory under OUT: A and A2 as they are, B and B2 with ``OPENBLAS_CORETYPE`` forcing an older
kernel set (a change made on purpose: the same calls on slower kernels). Prints:

- the false-alarm rate: ``compare A A2``'s cells called slower or faster, of all cells (the same
  build twice: every call is a false alarm), and, beside it, the old rule's (a 1.10x ratio and the
  measurements' ranges apart) on the same data;
- the agreement of A's and A2's own verdicts (threads against one thread), cell by cell, and among
  the cells whose ratio neither map found near the change factor (within 5%);
- how often a map's own "slower" (threads hurt here) is not repeated by the other map, and how each
  was decided (on the rounds' processes, or on the further rounds' fresh ones);
- the power: of the cells that A2 and B2 say moved by 1.3x or more (the truth, from other maps than
  the ones tested), the share ``compare A B`` calls slower;
- the gate (``compare --fail-on``) on A A2 and on A B;
- the CPU, and the time of each map.

``--gate PAIRS --interleaved`` measures each pair in one job instead, a round of each side in turn
(as a release axis or several setups side by side are measured), so that a drift of the machine between
two runs minutes apart falls on both sides alike: PAIRS identical pairs and PAIRS / 2 Prescott pairs.
``--gate PAIRS`` measures the gate over whole runs instead: PAIRS + 1 smaller maps of A and PAIRS of B
(the calls, sizes and rounds of ``GATE_MAP``, or the options given), A and B in turn; the gate on each
consecutive pair of A maps (the same environment twice: a failure is a false alarm) and on each A
against the B mapped next to it (a change made on purpose: a failure is what it should do).
``--gate-function PAIRS`` measures it on one measure moved on purpose: a function of this script's
(``FUNCTION``, solves of small systems) swept at 1 and 2 threads with 5 repeats, then again after an
edit that makes it do 1.5 times the work (``--workload``'s file rewritten, as a commit would), in turn;
the gate on each version against the edit after it, and on each version against the next unedited one.
``--gate-function PAIRS --interleaved`` measures both versions in one job instead, as a user would gate a
change (``scaling --workload solves.py:solves@HEAD solves.py:solves``, a repeat of each in turn, from a git
repository under OUT): PAIRS jobs with the working tree as committed, PAIRS / 2 with the edit uncommitted.

    python benchmarks/change_rule.py OUT [--coretype Prescott] [threadmap options, e.g. --calls solve]
    python benchmarks/change_rule.py OUT --again    # the rule re-applied to the maps kept in OUT
    python benchmarks/change_rule.py OUT --again --rounds K    # ... to their first K rounds' processes
    python benchmarks/change_rule.py OUT --again --rounds K --further M    # ... and M more where undecided
    python benchmarks/change_rule.py OUT --again --rounds K --further M --pooled    # ... pooled (the old rule)
    python benchmarks/change_rule.py OUT --gate 20    # the gate's false-fail rate and power over whole runs
    python benchmarks/change_rule.py OUT --gate 20 --interleaved    # ... each pair measured in one job, in turn
    python benchmarks/change_rule.py OUT --gate-function 10    # ... on one function edited to do 1.5x the work
    python benchmarks/change_rule.py OUT --gate-function 20 --interleaved    # ... both versions in one job

OUT is kept: ``python -m blasbench compare OUT/a OUT/a2`` and the maps' reports re-read it, and
``--again`` prints the figures again from it (after a change to the rule, or for maps made elsewhere,
e.g. on a machine without this script; without B2 the truth is A2 against B, which shares B with the
maps tested, and the output says so). ``--rounds K`` keeps each map's first K rounds (maps made with
``--rounds 10``, read with 5 and with 10: what more processes buy, from one set of maps); ``--further M``
gives the cells those K leave undecided the next M rounds' processes, as a map's further rounds would,
which decide them on their own; with ``--pooled``, pooled with the K rounds' (the rule before).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from blasbench.cli import main
from blasbench.facts import CHANGE_FACTOR
from blasbench.measuring.sweep import in_turn
from blasbench.measuring.threadmap import MapSettings, map_rounds
from blasbench.results.change import beyond_noise
from blasbench.results.compare import compare_dirs, gate_comparison
from blasbench.results.directory import Results
from blasbench.results.kinds import read_result, write_result
from blasbench.results.kinds.threadmap import undecided_cells

# the gate's smaller map: 4 calls x 3 sizes x 2 thread counts = 24 measures, with rounds enough for Holm's
# control over 24 (8 a side wholly apart: p = 1.6e-4 < 0.05 / 24) and no further rounds
GATE_CALLS, GATE_SIZES, GATE_ROUNDS = ("a @ b", "solve", "inv", "eigh"), (8, 64, 512), 8
GATE_MAP = ["--calls", *GATE_CALLS, "--sizes", *map(str, GATE_SIZES), "--rounds", str(GATE_ROUNDS), "--more-rounds", "0"]
# the function the gate is measured on, before and after an edit that does 1.5x the work
FUNCTION = """import numpy as np

WORK = {work}


def setup():
    rng = np.random.default_rng(0)
    return rng.standard_normal((40, 64, 64)) + 64 * np.eye(64), rng.standard_normal((40, 64, 1))


def solves(operands):
    a, b = operands
    for _ in range(WORK):
        np.linalg.solve(a, b)
"""
KNOWN_CHANGE = 1.3  # a cell the truth maps moved by at least this much is a change the rule should see
NEAR = 0.05  # a ratio this close to the change factor may fall either side of it in two maps


def threadmap(directory: Path, options: list[str], coretype: str | None) -> float:
    """One default map of the installed NumPy into ``directory``; its wall time."""
    saved = os.environ.get("OPENBLAS_CORETYPE")
    if coretype:
        os.environ["OPENBLAS_CORETYPE"] = coretype
    try:
        started = time.perf_counter()
        if main(["threadmap", "--setup", "installed", "--allow-busy", "--results", str(directory), *options]) != 0:
            raise SystemExit(f"the map into {directory} failed")
        return time.perf_counter() - started
    finally:
        if coretype and saved is None:
            os.environ.pop("OPENBLAS_CORETYPE")
        elif coretype:
            os.environ["OPENBLAS_CORETYPE"] = saved


def old_rule(base: dict, other: dict) -> bool:
    """The rule before this one: the medians 1.10x apart and every measurement's range apart."""
    ratio = other["median"] / base["median"]
    return (ratio >= CHANGE_FACTOR and other["min"] > base["max"]) or (ratio <= 1 / CHANGE_FACTOR and other["max"] < base["min"])


def own_verdicts(directory: Path) -> dict[tuple, dict]:
    """A map's own cells, threads against one thread: (threads, dtype, call, n) -> the cell (its verdict, speedup)."""
    found = Results.load(directory).findings["threadmap"]
    return {(m["threads"], m["dtype"], row["call"], cell["n"]): cell
            for m in found["maps"] for row in m["rows"] for cell in row["cells"]}


def near_the_factor(cell: dict) -> bool:
    """Whether the cell's ratio (its time at the threads over its time at one) lies within NEAR of the
    change factor, either way: where a second map's drift may carry it across."""
    ratio = 1 / cell["speedup"]
    return any(abs(math.log(ratio / line)) <= math.log(1 + NEAR) for line in (CHANGE_FACTOR, 1 / CHANGE_FACTOR))


def rows(a: Path, b: Path) -> list[dict]:
    return compare_dirs([a, b])["tables"]["threadmap"]


def report(out: Path, seconds: dict[str, float]) -> None:
    aa = rows(out / "a", out / "a2")
    false_alarms = [r for r in aa if beyond_noise(r["verdict"])]
    old_alarms = [r for r in aa if old_rule(r["base"], r["other"])]
    print(f"A/A, the same build mapped twice: {len(false_alarms)} of {len(aa)} cells called changed "
          f"({len(false_alarms) / len(aa):.1%}); the old rule on the same data: {len(old_alarms)} "
          f"({len(old_alarms) / len(aa):.1%})")
    for r in false_alarms:
        print(f"  false alarm: {r['key'][0]} at {r['key'][2]} thread(s): {r['verdict']}, {r['ratio']:.2f}x, p = {r['p']:.3g}")
    first, second = own_verdicts(out / "a"), own_verdicts(out / "a2")
    shared = sorted(set(first) & set(second))
    agree = [k for k in shared if first[k]["verdict"] == second[k]["verdict"]]
    print(f"the two maps' own verdicts (threads against one) agree on {len(agree)} of {len(shared)} cells "
          f"({len(agree) / len(shared):.1%})")
    for k in shared:
        if k not in agree:
            print(f"  disagree: `{k[2]}` n = {k[3]} at {k[0]} threads: {first[k]['verdict']} ({decided(first[k])}) / "
                  f"{second[k]['verdict']} ({decided(second[k])}), "
                  f"{1 / first[k]['speedup']:.3f}x / {1 / second[k]['speedup']:.3f}x")
    far = [k for k in shared if not (near_the_factor(first[k]) or near_the_factor(second[k]))]
    print(f"  of the {len(far)} cells neither map found within {NEAR:.0%} of the change factor ({CHANGE_FACTOR}x either way), "
          f"they agree on {len(set(far) & set(agree))}")
    claims = [(k, one, other) for one, other in ((first, second), (second, first))
              for k in shared if one[k]["verdict"] == "slower"]
    unrepeated = [(k, one, other) for k, one, other in claims if other[k]["verdict"] != "slower"]
    against_no_change = [c for c in unrepeated if c[2][c[0]]["verdict"] == "no change"]
    by_rounds = [c for c in claims if c[1][c[0]]["decided_by"] == "rounds"]
    print(f"\"slower\" (threads hurt) claims: {len(claims)} over both maps, {len(by_rounds)} decided on the rounds' processes "
          f"and {len(claims) - len(by_rounds)} on further rounds'; {len(unrepeated)} not repeated by the other map, "
          f"{len(against_no_change)} of them \"no change\" there ({len(against_no_change)} of {len(shared)} cells, "
          f"{len(against_no_change) / len(shared):.1%}); unrepeated: "
          f"{sum(c[1][c[0]]['decided_by'] == 'rounds' for c in unrepeated)} decided on the rounds, "
          f"{sum(c[1][c[0]]['decided_by'] != 'rounds' for c in unrepeated)} on further rounds")
    against, truth_maps = ((out / "b2", "A2 against B2") if (out / "b2").is_dir() else
                           (out / "b", "A2 against B, B shared with the maps tested"))
    truth = {tuple(r["key"]): r["ratio"] for r in rows(out / "a2", against)}
    tested = {tuple(r["key"]): r for r in rows(out / "a", out / "b")}
    known = [k for k, ratio in truth.items() if ratio >= KNOWN_CHANGE and k in tested]
    seen = [k for k in known if tested[k]["verdict"] == "slower"]
    print(f"power: of {len(known)} cells the truth maps ({truth_maps}) moved by {KNOWN_CHANGE}x or more, "
          f"`compare A B` calls {len(seen)} slower ({len(seen) / len(known):.1%})" if known else
          "power: no cell moved by the known change")
    for k in known:
        if k not in seen:
            print(f"  missed: {k[0]} at {k[2]} thread(s): {tested[k]['verdict']}, {tested[k]['ratio']:.2f}x "
                  f"(truth {truth[k]:.2f}x)")
    unchanged = [k for k, ratio in truth.items() if 1 / 1.05 <= ratio <= 1.05 and k in tested]
    called = [k for k in unchanged if beyond_noise(tested[k]["verdict"])]
    if unchanged:
        print(f"cells the truth maps found unchanged (within 5%): {len(unchanged)}, of which `compare A B` called "
              f"{len(called)} changed ({len(called) / len(unchanged):.1%})")
    for pair, (x, y) in (("A A2", ("a", "a2")), ("A B", ("a", "b"))):
        found = gate_comparison(compare_dirs([out / x, out / y]), "slower")
        print(f"gate --fail-on slower, {pair}: {found['status']} ({len(found['failing'])} failing, {len(found['open'])} "
              f"open of {found['compared']}; {found['processes_needed']} processes a side can decide)")
    print(f"CPU: {cpu_of(out / 'a')}")
    if seconds:
        print("map times: " + ", ".join(f"{name} {s:.0f} s" for name, s in seconds.items()))


def decided(cell: dict) -> str:
    return f"{cell['processes']} processes" + ("" if cell["decided_by"] == "rounds" else ", further rounds")


def cpu_of(directory: Path) -> str:
    results = Results.load(directory)
    cpu = next(env for _, env in results.environments())["cpu"]
    simd = cpu.get("simd") or []
    widest = "AVX-512" if "avx512f" in simd else "AVX2" if "avx2" in simd else "SSE/AVX"
    return f"{cpu.get('model')}, {cpu.get('usable_cores')} usable cores, {widest}"


def gate_runs(out: Path, pairs: int, options: list[str], coretype: str) -> None:
    """The gate over whole runs: PAIRS + 1 maps of A and PAIRS of B, in turn; each consecutive A pair, and
    each A against the B after it, gated with ``--fail-on slower``."""
    options = options or GATE_MAP
    seconds = []
    for i in range(pairs + 1):
        seconds.append(threadmap(out / f"a{i}", options, None))
        if i < pairs:
            seconds.append(threadmap(out / f"b{i}", options, coretype))
    read_gate(out, seconds)


def sweep_function(directory: Path, work: int) -> float:
    """One sweep of FUNCTION doing ``work`` rounds of solves, its file rewritten in place first; its wall time."""
    source = directory.parent / "function" / "solves.py"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text(FUNCTION.format(work=work))
    started = time.perf_counter()
    if main(["scaling", "--setup", "installed", "--allow-busy", "--workload", f"{source}:solves", "--threads", "1,2",
             "--repeats", "5", "--profile-rungs", "--experiments", "--results", str(directory)]) != 0:
        raise SystemExit(f"the sweep into {directory} failed")
    return time.perf_counter() - started


def gate_function(out: Path, pairs: int) -> None:
    """The gate on one function edited to do 1.5x the work (2 solves a call, then 3), versions in turn."""
    seconds = []
    for i in range(pairs + 1):
        seconds.append(sweep_function(out / f"a{i}", 2))
        if i < pairs:
            seconds.append(sweep_function(out / f"b{i}", 3))
    read_gate(out, seconds)


def committed_function(repo: Path) -> Path:
    """FUNCTION doing 2 rounds of solves, committed in a git repository of its own at ``repo``; its file."""
    source = repo / "solves.py"
    repo.mkdir(parents=True, exist_ok=True)
    source.write_text(FUNCTION.format(work=2))
    for words in (["init", "-q"], ["add", "solves.py"], ["commit", "-q", "-m", "two rounds of solves"]):
        subprocess.run(["git", "-C", str(repo), "-c", "user.name=bench", "-c", "user.email=bench@localhost", *words],
                       check=True)
    return source


def function_pair(directory: Path, source: Path, work: int) -> float:
    """The committed function and the working tree's (rewritten to do ``work`` rounds first) in one job; its wall time."""
    source.write_text(FUNCTION.format(work=work))
    started = time.perf_counter()
    if main(["scaling", "--setup", "installed", "--allow-busy", "--workload", f"{source}:solves@HEAD",
             f"{source}:solves", "--threads", "1,2", "--results", str(directory)]) != 0:
        raise SystemExit(f"the sweeps into {directory} failed")
    return time.perf_counter() - started


def gate_function_interleaved(out: Path, pairs: int) -> None:
    """PAIRS jobs of the function against itself and PAIRS / 2 against its edit, each in one job, in turn."""
    source = committed_function(out / "function")
    seconds = []
    for i in range(pairs):
        seconds.append(function_pair(out / f"a{i}-again", source, 2))
        if i % 2 == 0:
            seconds.append(function_pair(out / f"b{i // 2}", source, 3))
    read_gate(out, seconds)


def interleaved_pair(x: Path, y: Path, y_env: dict | None) -> float:
    """Two maps of GATE_MAP's calls, sizes and rounds at 1 and 2 threads, a round of each in turn (the product's
    own round-robin, as a release axis takes its points); ``y_env``: what the second side's processes get
    besides (a forced core type). Their wall time."""
    settings = MapSettings(calls=GATE_CALLS, sizes=GATE_SIZES, threads=(1, 2), rounds=GATE_ROUNDS, more_rounds=0)
    sides = {x: None, y: y_env}
    started = time.perf_counter()
    for _ in in_turn([x, y], lambda side: map_rounds(settings, side / "threadmap.json", extra_env=sides[side]),
                     settings.rounds):
        pass
    return time.perf_counter() - started


def gate_interleaved(out: Path, pairs: int, coretype: str) -> None:
    """PAIRS identical pairs and PAIRS / 2 Prescott pairs, each measured in one job, a round of each side in turn."""
    seconds = []
    for i in range(pairs):
        seconds.append(interleaved_pair(out / f"a{i}", out / f"a{i}-again", None))
        if i % 2 == 0:
            seconds.append(interleaved_pair(out / f"c{i // 2}", out / f"b{i // 2}", {"OPENBLAS_CORETYPE": coretype}))
    read_gate(out, seconds)


def read_gate(out: Path, seconds: list[float] = ()) -> None:
    count = sum(1 for d in out.glob("b*") if d.is_dir())
    if (out / "a0-again" / "workloads").is_dir():  # a function's two versions in one job, each its own folder
        versions = [str(Path(d.name) / "workloads" / name) for d in sorted(out.glob("[ab]*")) if d.is_dir()
                    for name in ("solves.solves@HEAD", "solves.solves")]
        aa = [tuple(versions[i:i + 2]) for i in range(0, len(versions), 2) if versions[i].startswith("a")]
        ab = [tuple(versions[i:i + 2]) for i in range(0, len(versions), 2) if versions[i].startswith("b")]
    elif (out / "a0-again").is_dir():  # measured in pairs, each in one job
        aa = sorted(((d.name.removesuffix("-again"), d.name) for d in out.glob("a*-again")), key=lambda p: int(p[0][1:]))
        ab = [(f"c{i}", f"b{i}") for i in range(count)]
    else:  # whole runs one after another: consecutive A maps, and each A against the B after it
        aa = [(f"a{i}", f"a{i + 1}") for i in range(count)]
        ab = [(f"a{i}", f"b{i}") for i in range(count)]
    for what, pairs in (("A/A", aa), ("A/B", ab)):
        found = [gate_comparison(compare_dirs([out / x, out / y]), "slower") for x, y in pairs]
        statuses = [f["status"] for f in found]
        print(f"gate {what} over {len(pairs)} pairs of runs ({found[0]['compared']} measures each): "
              + ", ".join(f"{word} {statuses.count(word)}" for word in ("fail", "undecidable", "pass")))
        for (x, y), f in zip(pairs, found):
            for row in f["failing"]:
                if what == "A/A":
                    print(f"  false fail {x} {y}: {row['key'][0]} at {row['key'][2]} thread(s), "
                          f"{row['ratio']:.2f}x, p = {row['p']:.2g}")
    print(f"CPU: {cpu_of(out / aa[0][0])}")
    if seconds:
        print(f"run times: {min(seconds):.0f} to {max(seconds):.0f} s, {sum(seconds) / 60:.1f} min in all")


def first_rounds(out: Path, rounds: int, into: Path, further: int = 0, pooled: bool = False) -> Path:
    """The maps kept in ``out``, each with only its first ``rounds`` rounds' processes, under ``into``;
    with ``further``, the cells those leave undecided keep the next ``further`` rounds' processes too
    (at one thread and where undecided, as a map's further rounds measure them; all of them, without
    the further rounds' time limit)."""
    for directory in (d for d in out.iterdir() if (d / "threadmap.json").is_file()):
        kept = read_result(directory / "threadmap.json", "threadmap")
        if kept["settings"]["rounds"] < rounds + further:
            raise SystemExit(f"{directory} has {kept['settings']['rounds']} rounds, fewer than {rounds + further}")
        runs = kept["runs"]
        kept["runs"] = [run for run in runs if run["round"] < rounds]
        kept["settings"].update(rounds=rounds, more_rounds=further)
        undecided = {threads: set(cells) for threads, cells in undecided_cells(kept).items()}
        wanted = {1: set().union(*undecided.values()), **undecided}
        for run in (run for run in runs if rounds <= run["round"] < rounds + further):
            if cells := [c for c in run["cells"] if (c["call"], c["dtype"], c["n"]) in wanted.get(run["threads"], ())]:
                kept["runs"].append({**run, "cells": cells})
        if pooled:  # the rule before: the further rounds' processes pooled with the rounds', as if rounds of their own
            kept["settings"]["rounds"] = rounds + further
        write_result(into / directory.name / "threadmap.json", kept)
    return into


def run(argv: list[str]) -> None:
    out, rest = Path(argv[0]), argv[1:]
    if rest[:1] == ["--again"]:
        if (out / "a0").is_dir() or (out / "a0-again").is_dir():
            return read_gate(out)
        if rest[1:2] != ["--rounds"]:
            return report(out, {})
        further = int(rest[4]) if rest[3:4] == ["--further"] else 0
        with tempfile.TemporaryDirectory() as into:
            return report(first_rounds(out, int(rest[2]), Path(into), further, "--pooled" in rest), {})
    coretype = "Prescott"
    if "--coretype" in rest:
        at = rest.index("--coretype")
        coretype, rest = rest[at + 1], rest[:at] + rest[at + 2:]
    if rest[:1] == ["--gate"] and "--interleaved" in rest:
        return gate_interleaved(out, int(rest[1]), coretype)
    if rest[:1] == ["--gate"]:
        return gate_runs(out, int(rest[1]), rest[2:], coretype)
    if rest[:1] == ["--gate-function"] and "--interleaved" in rest:
        return gate_function_interleaved(out, int(rest[1]))
    if rest[:1] == ["--gate-function"]:
        return gate_function(out, int(rest[1]))
    seconds = {}
    for name, forced in (("a", None), ("a2", None), ("b", coretype), ("b2", coretype)):
        seconds[name] = threadmap(out / name, rest, forced)
    report(out, seconds)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    run(sys.argv[1:])
