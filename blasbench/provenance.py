"""What every result file records about where it came from."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import site
import subprocess
import sys
import sysconfig
import time
from contextlib import contextmanager
from pathlib import Path

from .facts import BUSY_CORES, THREAD_VARIABLES

# Variables that change what BLAS, numexpr or malloc do; recorded whenever set.
RELEVANT_ENV = (
    *THREAD_VARIABLES,
    "NUMEXPR_MAX_THREADS", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_VERBOSE",
    "OPENBLAS_THREAD_TIMEOUT", "OMP_PROC_BIND", "OMP_PLACES", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT",
    "MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_", "LD_LIBRARY_PATH", "LD_PRELOAD",
)
PACKAGES = ("numpy", "scipy", "numexpr", "threadpoolctl", "matplotlib", "blasbench")


def usable_cores() -> int:
    """Cores this process may run on (affinity, hence also containers' cpusets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    """The SIMD extensions that decide which OpenBLAS kernels can run."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                return sorted(f for f in flags if f.startswith(("avx", "fma", "sse4")))
    except OSError:
        pass
    return []


# The commit a parent found, handed to its children: they run the package installed into an
# environment (nox's, a variant's), outside any clone, in an empty directory.
COMMIT_VARIABLE = "BLASBENCH_COMMIT"


def source_tree() -> Path | None:
    """The clone this code comes from: the package's own parent when it runs from there, else the
    current directory when it is a clone of this project (nox installs the package into a session
    environment and runs it from the clone)."""
    for candidate in (Path(__file__).resolve().parents[1], Path.cwd()):  # blasbench/provenance.py
        if (candidate / "blasbench" / "__init__.py").is_file() and (candidate / ".git").exists():
            return candidate
    return None


@functools.cache
def uninstalled_root() -> str | None:
    """The directory this package is imported from when it is not installed in this interpreter's
    environment (``python -m blasbench`` run in a clone, nothing installed), else None."""
    root = Path(__file__).resolve().parents[1]  # blasbench/provenance.py
    paths = sysconfig.get_paths()
    installed = {Path(p).resolve() for p in (paths["purelib"], paths["platlib"], *site.getsitepackages())}
    return None if root in installed else str(root)


def child_environment(env: dict | None = None) -> dict:
    """``env`` (this process's by default) with the commit this process measures handed on."""
    env = dict(os.environ if env is None else env)
    if COMMIT_VARIABLE not in env and (commit := git_commit()):
        env[COMMIT_VARIABLE] = commit
    return env


@functools.cache
def git_commit() -> str | None:
    """The clone's commit; for a tree with uncommitted changes ``<commit>-dirty.<hash of the diff>``,
    so that code edited again is another identity, not the same "dirty". A child takes its parent's.
    Read once per process: a run measures the code installed when it started, so an edit to the clone
    while it runs (which the installed package does not see) does not split its results in two."""
    if given := os.environ.get(COMMIT_VARIABLE):
        return given
    if (here := source_tree()) is None:
        return None
    # results and reports are data, not code: writing them does not make the code dirty
    code = ["--", ".", ":(exclude)reports"]
    try:
        out = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True)
        diff = subprocess.run(["git", "-C", str(here), "diff", "HEAD", "--binary", *code], capture_output=True).stdout
    except OSError:
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() + (f"-dirty.{hashlib.sha256(diff).hexdigest()[:12]}" if diff else "")


def workload_source(package: str = "nn") -> str | None:
    """sha256 of the measured workload's source (every ``.py`` file of its package, by relative
    name), so that results of edited code are never taken for this code's, in a clone or not."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    root = Path(next(iter(spec.submodule_search_locations)))
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def versions() -> dict[str, str | None]:
    found = {}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def wheel_sources() -> dict[str, str | None]:
    """Where this environment's NumPy and SciPy came from: the wheelhouse entry (its key) of a
    build, another file, or the package index (``index``, with the version beside it)."""
    found = {}
    for name in ("numpy", "scipy"):
        try:
            distribution = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
            continue
        url = json.loads(distribution.read_text("direct_url.json") or "{}").get("url")
        found[name] = f"{distribution.version} from " + (Path(url).parent.name if url else "index")
    return found


def busy_cpu_seconds() -> float:
    """CPU seconds all processors have spent busy since boot (/proc/stat), to tell how much CPU
    other processes took while something was measured."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, idle, iowait, irq, softirq = (int(x) for x in fields[:7])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    """CPU seconds of this process's finished children, for a measurement run in a child."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


@contextmanager
def load_around(own_cpu_seconds=time.process_time):
    """The load around a measurement, filled in on leaving: the load average before and after,
    and how many cores other processes kept busy on average, that is all processors' busy time
    less the measurer's own (``own_cpu_seconds``: this process's, or its children's)."""
    load = {"load_average_before": list(os.getloadavg())}
    busy, own, started = busy_cpu_seconds(), own_cpu_seconds(), time.perf_counter()
    try:
        yield load
    finally:
        others = busy_cpu_seconds() - busy - (own_cpu_seconds() - own)
        load.update(load_average_after=list(os.getloadavg()),
                    other_cores=max(0.0, others) / (time.perf_counter() - started))


def _process_times() -> dict[int, tuple[str, float]]:
    """(name, CPU seconds so far) of every process, from /proc/<pid>/stat."""
    ticks, found = os.sysconf("SC_CLK_TCK"), {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text[text.index("(") + 1:text.rindex(")")], text[text.rindex(")") + 2:].split()
        found[int(stat.parent.name)] = (name, (int(rest[11]) + int(rest[12])) / ticks)
    return found


def other_load(seconds: float = 1.0) -> dict:
    """How busy the machine is without this process: cores other processes kept busy over
    ``seconds``, the load average, and the busiest other processes."""
    mine = {os.getpid(), os.getppid()}
    before, busy_before, started = _process_times(), busy_cpu_seconds(), time.perf_counter()
    time.sleep(seconds)
    after, busy_after, wall = _process_times(), busy_cpu_seconds(), time.perf_counter() - started
    own = sum(after[pid][1] - before[pid][1] for pid in mine if pid in before and pid in after)
    top = sorted(((after[pid][1] - before[pid][1]) / wall, after[pid][0], pid) for pid in after
                 if pid in before and pid not in mine)[::-1][:3]
    return {"other_cores": max(0.0, busy_after - busy_before - own) / wall, "load_average": list(os.getloadavg()),
            "top": [{"pid": pid, "name": name, "cores": round(cores, 2)} for cores, name, pid in top if cores > 0.05]}


def describe_load(load: dict) -> str:
    top = ", ".join(f"{p['name']} (pid {p['pid']}, {p['cores']:.2f} cores)" for p in load["top"]) or "none"
    return (f"other processes kept {load['other_cores']:.2f} cores busy, load average "
            f"{load['load_average'][0]:.2f}; busiest: {top}")


def wait_for_quiet(limit: float, busy_cores: float = BUSY_CORES) -> dict:
    """Wait up to ``limit`` seconds for other processes to use fewer than ``busy_cores`` cores,
    saying what is waited for; returns the last measurement."""
    deadline = time.monotonic() + limit
    load = other_load()
    while load["other_cores"] >= busy_cores and time.monotonic() < deadline:
        print(f"waiting for a quiet machine (up to {deadline - time.monotonic():.0f} s more): {describe_load(load)}",
              file=sys.stderr, flush=True)
        time.sleep(min(10.0, max(0.0, deadline - time.monotonic())))
        load = other_load()
    return load


def numpy_build_config() -> dict | None:
    """``numpy.show_config()``'s essentials: BLAS/LAPACK found at build time and the compilers."""
    if "numpy" not in sys.modules:
        return None
    import numpy

    config = numpy.show_config(mode="dicts")
    deps = config.get("Build Dependencies", {})
    return {
        "blas": deps.get("blas"),
        "lapack": deps.get("lapack"),
        "compilers": {k: {"name": v.get("name"), "version": v.get("version")}
                      for k, v in config.get("Compilers", {}).items() if isinstance(v, dict)},
        "simd": config.get("SIMD Extensions"),
    }


def collect() -> dict:
    """Provenance of a measurement made in this process (call after importing numpy)."""
    import threadpoolctl

    return {
        "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "git_commit": git_commit(),
        "workload_source": workload_source(),
        "host": platform.node(),
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpu": {"model": cpu_model(), "logical_cpus": os.cpu_count(), "usable_cores": usable_cores(),
                "simd": cpu_flags()},
        "load_average": list(os.getloadavg()),
        "versions": versions(),
        "wheels": wheel_sources(),
        "threadpool_info": threadpoolctl.threadpool_info(),
        "numexpr_threads": sys.modules["numexpr"].get_num_threads() if "numexpr" in sys.modules else None,
        "numpy_config": numpy_build_config(),
        "env": {k: os.environ[k] for k in RELEVANT_ENV if k in os.environ},
    }
