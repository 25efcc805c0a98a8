"""Does this Python environment really run BLAS in parallel?

``python -m blasbench.verify`` works in any environment: it checks with threadpoolctl which
BLAS NumPy and SciPy loaded, which threading layer and how many threads it uses, and times a
DGEMM at one and at all threads to prove the threads run. Exit status 0 only when every
check holds, 1 when one fails (each failure says its likely cause), 3 when the timing probe
could not tell because other processes kept the cores busy.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from .. import UserError, provenance
from ..facts import BUSY_CORES, PARALLEL_SPEEDUP, SERIAL_LAYERS, STATUS_WORDS
from ..store import read_json, write_json

SERIAL_MAX_SPEEDUP = 1.2
PROBE_ATTEMPTS = 3
BLAS_FILE = re.compile(r"(blas|lapack|blis|mkl_rt)", re.IGNORECASE)


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    hint: str = ""


def mapped_blas_files() -> list[str]:
    """Real paths of every BLAS/LAPACK shared library mapped into this process."""
    found = set()
    try:
        for line in Path("/proc/self/maps").read_text().splitlines():
            parts = line.split()
            name = os.path.basename(parts[5]) if len(parts) >= 6 else ""
            if name.startswith("lib") and BLAS_FILE.search(name):
                found.add(os.path.realpath(parts[5]))
    except OSError:
        pass
    return sorted(found)


def linked_blas(module_file: str) -> list[str]:
    """What the dynamic loader resolves an extension module's BLAS dependencies to (ldd)."""
    try:
        out = subprocess.run(["ldd", module_file], capture_output=True, text=True).stdout
    except OSError:
        return []
    resolved = []
    for line in out.splitlines():
        name, _, target = line.strip().partition(" => ")
        if BLAS_FILE.search(name) and target.startswith("/"):
            resolved.append(os.path.realpath(target.split(" (")[0]))
    return resolved


PYPI_BUNDLES = ("numpy.libs", "scipy.libs", "scipy_openblas")


def shadow_hint(path: str) -> str:
    if any(bundle in path for bundle in PYPI_BUNDLES):
        return ("a PyPI wheel's bundled OpenBLAS is loaded: a prebuilt numpy/scipy shadows the build; "
                "reinstall the built wheels (`python3 -m nox -s build-openblas`).")
    return ""


def bundled_pools(blas: list[dict]) -> str:
    """Where no build is expected (``--setup installed``) and NumPy's and SciPy's PyPI wheels each brought their
    own OpenBLAS: what that means for the numbers, and the way to one library."""
    if len(blas) > 1 and all(any(bundle in lib["filepath"] for bundle in PYPI_BUNDLES) for lib in blas):
        return ("NumPy's and SciPy's PyPI wheels each bundle their own OpenBLAS: two libraries, two thread pools in one "
                "process (the setting of SciPy #22438's slowdowns). Thread variables and threadpool_limits reach both, "
                "so the measurements stand, but they are of the two together; for one BLAS, build NumPy and SciPy "
                "against one (`python3 -m nox -s build-openblas`) or take both from a distribution that shares one.")
    return ""


def preload_hint() -> str:
    if preloaded := os.environ.get("LD_PRELOAD", "").strip():
        return f"LD_PRELOAD={preloaded} loads another library before the build's: unset LD_PRELOAD to verify the build."
    return ""


def thread_limit_in_env() -> tuple[str, str] | None:
    """The first variable that limits OpenBLAS's threads, as (name, value)."""
    for variable in ("OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS"):
        if os.environ.get(variable, "").strip():
            return variable, os.environ[variable].strip()
    return None


def _timed_product(a, b, out) -> tuple[float, float]:
    import numpy as np

    wall, cpu = time.perf_counter(), time.process_time()
    np.dot(a, b, out=out)
    return time.perf_counter() - wall, time.process_time() - cpu


def _as_timing(best: tuple[float, float], n: int, threads: int | None) -> dict:
    wall, cpu = best
    return {"threads": threads, "seconds": wall, "cpu_seconds": cpu, "cpu_per_wall": cpu / wall,
            "gflops": 2 * n**3 / wall / 1e9}


def time_dgemm(n: int, repeats: int, threads: int | None) -> dict:
    """Best-of-``repeats`` wall time of an n x n DGEMM on ``threads`` (None: all), with its CPU/wall."""
    from threadpoolctl import threadpool_limits

    a, b, out = _operands(n)
    with threadpool_limits(limits=threads, user_api="blas"):
        _timed_product(a, b, out)  # warm-up: thread start, page faults
        best = min(_timed_product(a, b, out) for _ in range(repeats))
    return _as_timing(best, n, threads)


def time_dgemm_pair(n: int, repeats: int) -> tuple[dict, dict]:
    """One thread and all threads, interleaved run by run, so that a burst of load from
    elsewhere slows both sides rather than only one; best of ``repeats`` each."""
    from threadpoolctl import threadpool_limits

    a, b, out = _operands(n)
    results: dict = {1: [], None: []}
    for _ in range(repeats + 1):
        for threads in results:
            with threadpool_limits(limits=threads, user_api="blas"):
                results[threads].append(_timed_product(a, b, out))
    # the first of each is the warm-up
    return _as_timing(min(results[1][1:]), n, 1), _as_timing(min(results[None][1:]), n, None)


def _operands(n: int):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.random((n, n)), rng.random((n, n)), np.empty((n, n))


def flops_per_cycle(cpuinfo: str) -> int:
    """Double-precision FLOPs per cycle per core: two FMA pipes of the widest vectors the core
    executes at full width (AVX-512 on Intel and on AMD from Zen 5; Zen 4 splits it in two)."""
    fields = dict(line.split(":", 1) for line in cpuinfo.splitlines()[:30] if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    family = int(fields.get("cpu family", "0") or 0)
    if "avx512f" in flags and (fields.get("vendor_id") == "GenuineIntel" or family >= 26):
        return 32
    return 16 if "fma" in flags else 8


def peak_gflops_per_core() -> float | None:
    """Clock reported by the kernel x FLOPs per cycle: a nominal estimate, recorded as such
    (a core that boosts above the reported clock can exceed it)."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        mhz = [float(line.split(":")[1]) for line in cpuinfo.splitlines() if line.startswith("cpu MHz")]
    except (OSError, ValueError):
        return None
    return max(mhz) * 1e-3 * flops_per_cycle(cpuinfo) if mhz else None


def check_single_blas(blas: list[dict], api: str = "openblas", built: bool = True) -> Check:
    """threadpoolctl sees exactly one BLAS, of the kind expected (``internal_api``); ``built``: a build
    is expected (not the environment as it is, ``--setup installed``)."""
    names = ", ".join(f"{lib['internal_api']} {lib['filepath']}" for lib in blas) or "none"
    ok = len(blas) == 1 and blas[0]["internal_api"] == api
    hint = ""
    if len(blas) > 1 and not built and (bundled := bundled_pools(blas)):
        return Check(f"one BLAS, and it is {api}", True, names, bundled)  # a finding of the environment, not a fault
    elif len(blas) > 1:
        hint = "a second BLAS is loaded beside the build: " + (
            shadow_hint(names) or preload_hint()
            or "uninstall the other numpy/scipy or library, then reinstall the built wheels.")
    elif not ok:
        hint = (f"NumPy is not linked against {api} (built without BLAS, or against another one): "
                "rebuild with `python3 -m nox -s build-openblas`.")
    return Check(f"one BLAS, and it is {api}", ok, names, hint)


def check_library(loaded: str, expected: str) -> Check:
    ok = loaded == os.path.realpath(expected)
    hint = "" if ok else shadow_hint(loaded) or preload_hint() or \
        "another OpenBLAS is found first: check LD_LIBRARY_PATH and the wheels' RUNPATH."
    return Check("library is the provider's", ok, f"loaded {loaded}; expected {os.path.realpath(expected)}", hint)


def check_resolution(loaded: str, resolved: dict[str, list[str]], mapped: list[str],
                     companions: tuple[str, ...] = (), built: bool = True) -> Check:
    """Every extension module links ``loaded`` (and at most its provider's ``companions``, such as
    the LAPACK a BLIS needs) and no other BLAS or LAPACK is mapped."""
    allowed = {loaded, *map(os.path.realpath, companions)}
    ok = loaded in mapped and set(mapped) <= allowed and all(
        loaded in paths and set(paths) <= allowed for paths in resolved.values())
    detail = "; ".join(f"{name} -> {', '.join(paths) or 'nothing found by ldd'}" for name, paths in resolved.items())
    bundles = not built and all(any(bundle in path for bundle in PYPI_BUNDLES) for path in mapped)
    if bundles and not ok:  # each PyPI wheel's own OpenBLAS, named by the first check: a finding, not a fault
        return Check("NumPy and SciPy resolve to that library", True, f"{detail}; mapped: {', '.join(mapped)}",
                     "each extension module loads its own wheel's OpenBLAS (see the first check).")
    hint = "" if ok else "the extension modules load different BLAS libraries: " + (
        (shadow_hint(" ".join(mapped)) if built else "") or preload_hint() or "rebuild both against one provider.")
    return Check("NumPy and SciPy resolve to that library", ok, f"{detail}; mapped: {', '.join(mapped)}", hint)


def check_threading(layer: str, expected: str) -> Check:
    ok = layer == expected
    hint = "" if ok else "the loaded OpenBLAS is another library than the one built against: check RUNPATH and LD_LIBRARY_PATH."
    return Check("threading layer", ok, f"{layer} (expected {expected})", hint)


# The check of the library's default thread count: what a plain `import numpy` gets. A map sets every
# process's count and checks it took effect, so this one alone failing (BLIS starts on one) does not stop it.
THREAD_COUNT = "thread count"


def failed_checks(result: dict) -> list[str]:
    """The names of the checks a verification failed."""
    return [check["name"] for check in result["checks"] if not check["ok"]]


def check_thread_count(num_threads: int, layer: str, explicit: int | None = None) -> Check:
    """All usable cores (or the explicit limit asked for); a serial build runs one."""
    if layer in SERIAL_LAYERS:
        want, why = 1, "serial build"
    elif explicit:
        want, why = explicit, "explicit --threads"
    else:
        want, why = provenance.usable_cores(), "usable cores"
    ok = num_threads == want
    hint = ""
    if not ok and (limit := thread_limit_in_env()):
        hint = (f"{limit[0]}={limit[1]} is set in the environment: unset it "
                f"(or run `python -m blasbench.verify --threads {limit[1]}` to expect it).")
    elif not ok and num_threads == 1:
        hint = ("the library starts on one thread unless told otherwise (BLIS does): set BLIS_NUM_THREADS or "
                "OMP_NUM_THREADS, or set it at run time with threadpoolctl's threadpool_limits.")
    elif not ok:
        hint = "OpenBLAS was built with a smaller MAX_THREADS than this machine has cores."
    return Check(THREAD_COUNT, ok, f"{num_threads} (expected {want}: {why})", hint)


def check_probe(one: dict, everyone: dict, layer: str, threads: int, cores: int) -> Check:
    """The DGEMM timings prove the threads run (or, for a serial build, that they do not)."""
    speedup = one["seconds"] / everyone["seconds"]
    timings = (f"DGEMM {one['gflops']:.1f} GFLOP/s on 1 thread, {everyone['gflops']:.1f} on {threads}; "
               f"speedup {speedup:.2f}x, CPU/wall {everyone['cpu_per_wall']:.2f}")
    if layer in SERIAL_LAYERS or threads < 2 <= cores:
        # one thread, by design or by a limit, on several cores: the probe checks it stays on one
        ok = speedup < SERIAL_MAX_SPEEDUP and everyone["cpu_per_wall"] < SERIAL_MAX_SPEEDUP
        serial = layer in SERIAL_LAYERS
        return Check("timing probe: " + ("serial build stays serial" if serial else "one thread, as limited"), ok,
                     timings + " (expected about 1)", "" if ok else "a serial build ran on several cores: another BLAS "
                     "does the work." if serial else "the one-thread limit did not take effect.")
    if cores < 2:
        return Check("timing probe: one usable core, no parallel speedup to show", True, timings)
    ok = speedup >= PARALLEL_SPEEDUP and everyone["cpu_per_wall"] >= PARALLEL_SPEEDUP
    if ok:
        hint = ""
    elif one["cpu_per_wall"] >= PARALLEL_SPEEDUP:
        hint = "the one-thread limit did not take effect (an OpenMP build ignoring the runtime limit)."
    else:
        hint = "the threads do not run in parallel: another process is using the cores, or the build is serial."
    return Check("timing probe: threads really run", ok, f"{timings} (need {PARALLEL_SPEEDUP}x)", hint)


def run_checks(library: str | None = None, threading: str | None = None, threads: int | None = None,
               size: int = 2048, repeats: int = 5, wait_quiet: float = 0.0, api: str = "openblas",
               companions: tuple[str, ...] = (), numpy_only: bool = False) -> dict:
    """Every check, on the numpy and scipy (numpy alone with ``numpy_only``) this interpreter imports.
    ``status`` is passed, failed, or inconclusive: the timing probe failed while other processes kept
    the cores busy."""
    try:
        import numpy
        import threadpoolctl

        modules = {"numpy": numpy._core._multiarray_umath.__file__}
        if not numpy_only:
            import scipy.linalg._fblas as fblas

            modules["scipy"] = fblas.__file__
    except ImportError as e:
        return {"ok": False, "status": "failed", "checks": [asdict(Check("import", False, str(e),
                "install numpy, scipy and threadpoolctl in this environment"))]}
    blas = [lib for lib in threadpoolctl.threadpool_info() if lib["user_api"] == "blas"]
    checks = [check_single_blas(blas, api, built=library is not None)]
    if not blas:
        return {"ok": False, "status": "failed", "checks": [asdict(c) for c in checks]}
    info = blas[0]
    loaded = os.path.realpath(info["filepath"])
    if library:
        checks.append(check_library(loaded, library))
    checks.append(check_resolution(loaded, {name: linked_blas(path) for name, path in modules.items()},
                                   mapped_blas_files(), companions, built=library is not None))
    if threading:
        checks.append(check_threading(info["threading_layer"], threading))
    checks.append(check_thread_count(info["num_threads"], info["threading_layer"], threads))
    cores = provenance.usable_cores()
    load = provenance.wait_for_quiet(wait_quiet) if cores > 1 else provenance.other_load(0.2)
    busiest = load["other_cores"]
    for attempt in range(1, PROBE_ATTEMPTS + 1):  # load from elsewhere can spoil one attempt, not the capability
        with provenance.load_around() as during:
            one, everyone = time_dgemm_pair(size, repeats)
        busiest = max(busiest, during["other_cores"])
        probe = check_probe(one, everyone, info["threading_layer"], info["num_threads"], cores)
        if probe.ok:
            break
    probe.detail += f" (attempt {attempt} of {PROBE_ATTEMPTS})"
    checks.append(probe)
    ok = all(c.ok for c in checks)
    busy = not probe.ok and busiest >= BUSY_CORES and all(c.ok for c in checks[:-1])
    if busy:
        probe.hint = ("inconclusive: machine busy, " + provenance.describe_load({**load, "other_cores": busiest})
                      + ". Run `python3 -m nox -s verify` again when the machine is quiet.")
    peak = peak_gflops_per_core()
    return {
        "ok": ok,
        "status": "passed" if ok else "inconclusive" if busy else "failed",
        "load": {**load, "other_cores_during_probe": busiest},
        "checks": [asdict(c) for c in checks],
        "blas": info,
        "probe": {"size": size, "repeats": repeats, "one_thread": one, "all_threads": everyone,
                  "speedup": one["seconds"] / everyone["seconds"], "peak_gflops_per_core_estimate": peak,
                  "share_of_peak_one_thread": one["gflops"] / peak if peak else None,
                  "share_of_peak_all_threads": everyone["gflops"] / (peak * info["num_threads"]) if peak else None},
        "modules": modules,
        "environment": provenance.collect(),
    }


def format_checks(result: dict) -> str:
    """One line per check, PASS or FAIL with the likely cause, or NOTE: a check that holds with a finding
    beside it (PyPI's NumPy and SciPy each with its own OpenBLAS, where no build was asked for)."""
    lines = []
    for check in result["checks"]:
        word = "FAIL" if not check["ok"] else "NOTE" if check["hint"] else "PASS"
        lines.append(f"[{word}] {check['name']}: {check['detail']}")
        if check["hint"]:
            lines.append(f"       {'likely cause' if not check['ok'] else 'finding'}: {check['hint']}")
    return "\n".join(lines)


def verify_in_fresh_process(blas, api: str | None, output: Path, wait_quiet: float, numpy_only: bool = False) -> dict:
    """The verification runs in a new interpreter of this environment, as a user's would; ``api``
    is what threadpoolctl calls ``blas`` (None when it cannot see it)."""
    command = [sys.executable, "-m", "blasbench.verify", "--library", blas.library,
               "--threading", blas.threading_layer, "--json", str(output), "--wait-quiet", str(wait_quiet)]
    command += ["--api", api] if api else []
    command += [f"--companion={path}" for path in blas.companions]
    command += ["--numpy-only"] if numpy_only else []
    subprocess.run(command, env=provenance.child_environment())
    if not output.exists():
        raise UserError("the verification process crashed before writing its result (see its output above).")
    return read_json(output)



def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m blasbench.verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--library", help="the BLAS file that must be the one loaded")
    from .providers import PROVIDERS

    apis = sorted({provider.api for provider in PROVIDERS.values() if provider.api})
    parser.add_argument("--api", default="openblas", choices=apis,
                        help="the BLAS threadpoolctl must see (default openblas)")
    parser.add_argument("--companion", action="append", default=[], metavar="FILE",
                        help="another file of the same provider the modules may load (a BLIS's LAPACK)")
    parser.add_argument("--threading", help="expected threading layer as threadpoolctl names it "
                        "(pthreads, openmp, disabled; MKL: intel, gnu, sequential)")
    parser.add_argument("--expect-threads", type=int, help="expected thread count (default: usable cores)")
    parser.add_argument("--size", type=int, default=2048, help="DGEMM size of the timing probe (default 2048)")
    parser.add_argument("--timings", type=int, default=5, help="timed DGEMMs at each thread count (default 5)")
    parser.add_argument("--numpy-only", action="store_true", help="check NumPy's linkage alone (a build without SciPy)")
    parser.add_argument("--json", type=Path, help="write the full result here")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="SECONDS",
                        help="wait up to this long for other processes to leave the cores free before timing (default 0)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result = run_checks(args.library, args.threading, args.expect_threads, args.size, args.timings, args.wait_quiet,
                        args.api, tuple(args.companion), args.numpy_only)
    print(format_checks(result))
    if args.json:
        write_json(args.json, result)
    print("verification " + STATUS_WORDS[result["status"]])
    return EXIT_STATUS[result["status"]]


EXIT_STATUS = {"passed": 0, "failed": 1, "inconclusive": 3}


if __name__ == "__main__":
    sys.exit(main())
