"""Compile NumPy and SciPy from their sdists against one BLAS (a provider's: OpenBLAS, BLIS, oneMKL,
the reference), into a wheelhouse keyed by every input that changes the binary.

The wheelhouse lives outside the clone (``blasbench.store.cache_dir()/wheelhouse``), one
directory per key; a directory exists only once its wheel and ``build.json`` are complete
(it is renamed into place), so a killed build leaves nothing that looks finished.
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

from tqdm import tqdm

from .. import UserError, pins
from ..facts import REBUILDS, WAIT_QUIET_SECONDS
from ..results.identity import identity
from ..results.kinds.build import describe_difference
from ..store import atomic_write_text, cache_dir, digest, file_sha256, locked, pid_alive, read_json, write_json
from .disk import check_free, full_disk, one_line_when_full, says_full
from .host import ensure_build_dependencies, toolchain
from .providers import PROVIDERS, BLASLibrary
from .verify import verify_in_fresh_process
from .wheels import compare_wheels, wheel_members, without_cache_path

# 2: the cache's path taken out of the wheel's Python files (wheels.without_cache_path), the build
# environment named by the NumPy wheel's bytes, not its path
KEY_SCHEMA = 2
NINJA_STEP = re.compile(r"^\s*\[(\d+)/(\d+)\]")
BUILD_WHEEL_HOOK = "import json, sys, mesonpy; print(mesonpy.build_wheel(sys.argv[1], json.loads(sys.argv[2])))"
# Flags that change the binary when a user sets them.
FLAG_VARIABLES = ("CC", "CXX", "FC", "CFLAGS", "CXXFLAGS", "FFLAGS", "LDFLAGS", "CPPFLAGS")

# Each build's record in the wheelhouse, beside its wheels.
MANIFEST = "build.json"


@dataclass(frozen=True)
class UnusedTarget:
    """A target a package's build makes by default that nothing in its wheel uses, made ``build_by_default:
    false`` in the extracted sdist: the wheel is the same, the compile shorter. ``found`` matches the target's
    definition in ``path`` up to its closing parenthesis; an sdist without it (another release) is built as
    it is. Named in the key's inputs where applied."""

    name: str
    package: str
    path: str  # inside the sdist's top directory
    found: re.Pattern

    def apply(self, text: str) -> str:
        return self.found.sub(lambda match: match.group(0)[:-1] + ", build_by_default: false)", text, count=1)


UNUSED_TARGETS = (
    # SciPy's HiGHS subproject defines a static library of its sources that SciPy does not link: SciPy compiles
    # the same sources into its own (scipy/optimize/_highspy/meson.build). 19% of SciPy 1.17's compile.
    UnusedTarget("highs-subproject-library", "scipy", "subprojects/highs/highs/meson.build",
                 re.compile(r"highslib = library\('highs',\n\s+highslib_srcs \+ highs_conf_file,[^)]*?install: do_install\)")),
)


def unused_targets(package: str, sdist: Path) -> list[UnusedTarget]:
    """The unused targets ``sdist`` holds (read from the tarball, not extracted; opened only for a package
    that has some)."""
    if not (targets := [t for t in UNUSED_TARGETS if t.package == package]):
        return []
    with tarfile.open(sdist) as tar:
        members = {m.name.split("/", 1)[-1]: m for m in tar.getmembers()}
        texts = {t.path: tar.extractfile(members[t.path]).read().decode() if t.path in members else "" for t in targets}
    return [t for t in targets if t.found.search(texts[t.path])]


@dataclass(frozen=True)
class BuiltWheel:
    package: str
    version: str
    key: str
    wheel: Path
    manifest: dict
    cached: bool  # True when this run reused it
    seconds: float  # how long this run spent obtaining it


def index_url() -> str:
    """The package index pip is configured with (read at run time, never written in the repo)."""
    if url := os.environ.get("PIP_INDEX_URL"):
        return url
    out = subprocess.run([sys.executable, "-m", "pip", "config", "get", "global.index-url"],
                         capture_output=True, text=True)
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else "https://pypi.org/simple"


def fetch_sdist(package: str, version: str) -> Path:
    """The sdist of ``package==version``, downloaded once, hash-checked every time.

    Not ``pip download``: for an sdist pip prepares metadata, which with meson-python
    means compiling the whole package."""
    target = cache_dir() / "sdists" / f"{package}-{version}.tar.gz"
    pinned = pins.SDIST_SHA256.get((package, version))
    if target.exists() and (pinned is None or file_sha256(target) == pinned):
        return target
    url = f"{index_url().rstrip('/')}/{package}/"
    request = urllib.request.Request(url, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            listing = json.load(response)
    except (OSError, ValueError) as e:
        raise UserError(f"Could not list {package} on {url} ({e}): check the network or PIP_INDEX_URL.") from None
    name = f"{package}-{version}.tar.gz"
    entry = next((f for f in listing.get("files", []) if f["filename"] == name), None)
    if entry is None:
        raise UserError(f"{package} {version} has no sdist on {url}: check the version number.")
    expected = pinned or entry["hashes"]["sha256"]
    partial = target.with_suffix(f".part{os.getpid()}")
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"Downloading {name} ...", flush=True)
    try:
        with one_line_when_full(target.parent, f"the download of {name}"):
            urllib.request.urlretrieve(entry["url"], partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if file_sha256(partial) != expected:
        partial.unlink()
        raise UserError(f"{name} does not match its sha256 {expected}: the download is corrupt; run again.")
    os.replace(partial, target)
    return target


def build_inputs(package: str, version: str, blas: BLASLibrary, sdist: Path,
                 depends_on: BuiltWheel | None = None) -> dict:
    """Everything that changes the binary; the wheelhouse key is its hash."""
    return {
        "schema": KEY_SCHEMA,
        "package": package,
        "version": version,
        "sdist_sha256": file_sha256(sdist),
        "openblas": blas.key_material(),  # hashed as first spelt, though it describes any BLAS: see key_material()
        # Where the cache lives is not an input: the .pc text is, through key_material().
        "meson_args": [a for a in blas.meson_args(package) if not a.startswith("-Dpkg_config_path=")],
        **machine_inputs(),
        "flags": {name: os.environ[name] for name in FLAG_VARIABLES if name in os.environ},
        "depends_on": depends_on.key if depends_on else None,
        # absent where none applies, so that the keys of builds without one stay as they were
        **({"unused_targets": [t.name for t in skipped]} if (skipped := unused_targets(package, sdist)) else {}),
    }


def machine_inputs() -> dict:
    """The inputs of every key that this machine decides, whatever is built: what a wheelhouse
    entry made elsewhere must match to serve here."""
    return {
        "python": sysconfig.get_config_var("SOABI"),
        "platform": sysconfig.get_platform(),
        "libc": " ".join(os.confstr("CS_GNU_LIBC_VERSION").split()) if hasattr(os, "confstr") else "",
        "toolchain": {k: v for k, v in toolchain().items() if k != "ccache"},
        "build_tools": list(pins.BUILD_TOOLS),
    }


def _build_env(numpy_wheel: Path | None) -> Path:
    """A venv holding the pinned build tools (and, for SciPy, the NumPy it builds against). Its name
    is in the wheel (meson records the build Python's path), so it is made of what is the same on
    every machine and in every cache: the Python's ABI (SOABI), the tools, the NumPy wheel's bytes.
    An environment whose Python no longer runs (a patch release replaced it) is made again."""
    name = digest([sysconfig.get_config_var("SOABI"), pins.BUILD_TOOLS, numpy_wheel and file_sha256(numpy_wheel)])[:16]
    env = cache_dir() / "buildenv" / name
    python = env / "bin" / "python"
    if (env / "ready").exists() and subprocess.run([str(python), "-c", ""]).returncode == 0:
        return env
    shutil.rmtree(env, ignore_errors=True)
    check_free(env.parent, "build tools")
    pip = [str(python), "-m", "pip", "install", "-q"]
    steps = [("the build tools' environment", [sys.executable, "-m", "venv", str(env)]),
             ("the build tools", [*pip, *pins.BUILD_TOOLS])]
    if numpy_wheel:
        steps.append(("the NumPy SciPy builds against", [*pip, "--no-deps", str(numpy_wheel)]))
    for what, command in steps:
        run = subprocess.run(command, stderr=subprocess.PIPE, text=True)
        if run.returncode != 0:
            shutil.rmtree(env, ignore_errors=True)
            if says_full(run.stderr):
                raise UserError(full_disk(env.parent, f"the install of {what}"))
            sys.stderr.write(run.stderr)
            raise UserError(f"Could not install {what} (see pip's message above): check the network or PIP_INDEX_URL.")
    (env / "ready").touch()
    return env


def ccache_counts() -> dict[str, int]:
    """ccache's hit and miss counters (empty without ccache), to record how warm a build was."""
    try:
        out = subprocess.run(["ccache", "--print-stats"], capture_output=True, text=True).stdout
    except FileNotFoundError:
        return {}
    counts = dict(line.split("\t", 1) for line in out.splitlines() if "\t" in line)
    wanted = {"hits": ("direct_cache_hit", "preprocessed_cache_hit"), "misses": ("cache_miss",)}
    return {name: sum(int(counts.get(k, 0)) for k in keys) for name, keys in wanted.items() if keys[0] in counts}


def wheelhouse() -> Path:
    return cache_dir() / "wheelhouse"


def remove_dead_partials() -> None:
    """Staging directories of builds whose process is gone (killed, machine rebooted)."""
    for partial in wheelhouse().glob(".*.partial*"):
        pid = partial.name.rpartition(".partial")[2]
        if pid.isdigit() and not pid_alive(int(pid)):
            print(f"removing {partial.name}: left by a build that did not finish (pid {pid})", file=sys.stderr)
            shutil.rmtree(partial, ignore_errors=True)


def entry_dir(package: str, version: str, key: str) -> Path:
    return wheelhouse() / f"{package}-{version}-{key[:16]}"


def find_cached(package: str, version: str, key: str) -> BuiltWheel | None:
    directory = entry_dir(package, version, key)
    manifest_path = directory / MANIFEST
    if not manifest_path.exists():
        return None
    manifest = read_json(manifest_path)
    wheel = directory / manifest["wheel"]
    if not wheel.exists() or file_sha256(wheel) != manifest["wheel_sha256"]:
        return None
    return BuiltWheel(package, version, key, wheel, manifest, cached=True, seconds=0.0)


def _run_logged(command: list[str], env: dict, log_path: Path, label: str, cwd: Path | None = None) -> None:
    """Run the build, keep its whole output in ``log_path`` and show ninja's [k/N] steps."""
    tail: collections.deque[str] = collections.deque(maxlen=400)
    bar = tqdm(total=1, desc=label, unit="step", dynamic_ncols=True, mininterval=1.0)
    with open(log_path, "w") as log:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, errors="replace")
        try:
            for line in process.stdout:
                log.write(line)
                tail.append(line.rstrip())
                if step := NINJA_STEP.match(line):
                    done, total = map(int, step.groups())
                    if bar.total != total:
                        bar.reset(total=total)
                    bar.update(done - bar.n)
            returncode = process.wait()
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            bar.close()
    if returncode != 0:
        if says_full("\n".join(tail)):
            raise UserError(full_disk(cache_dir(), f"the build of {label}") + f" Full log: {log_path}")
        relevant = [line for line in tail if re.search(r"error|Error|ERROR|FAILED|not found", line)][-12:]
        shown = "\n".join("    " + line for line in (relevant or list(tail)[-12:]))
        raise UserError(f"Building {label} failed; the last relevant lines:\n{shown}\nFull log: {log_path}")


def build_lock(package: str, version: str):
    """The lock on a package version's fixed source and build directories, which every build of it
    (and every second build to compare) uses."""
    return locked(f"{package}-{version}", f"build of {package} {version}")


def source_date_epoch(sdist: Path) -> int:
    """The newest member's time inside the sdist: set by the release, so every machine agrees
    (the file's own mtime is when this machine downloaded it)."""
    with tarfile.open(sdist) as tar:
        return int(max(member.mtime for member in tar.getmembers()))


def _compile(package: str, version: str, blas: BLASLibrary, sdist: Path, key: str, out_dir: Path,
             depends_on: BuiltWheel | None, log_path: Path, unused: list[str], ccache: bool = True) -> dict:
    """Compile the wheel into ``out_dir`` from fixed source and build paths (one per package version:
    ccache hits, and no random path inside the binaries); the caller holds their lock. Returns what
    the manifest says of the compile."""
    root = cache_dir()
    source = root / "src" / f"{package}-{version}"
    build_dir = root / "build" / f"{package}-{version}"
    for stale in (source, build_dir):
        shutil.rmtree(stale, ignore_errors=True)
    source.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(sdist) as tar:
        tar.extractall(source.parent, filter="data")
    for target in (t for t in UNUSED_TARGETS if t.name in unused):  # as the key's inputs name them
        definition = source / target.path
        definition.write_text(target.apply(definition.read_text()))
    env_dir = _build_env(depends_on.wheel if depends_on else None)
    log_path.parent.mkdir(exist_ok=True)
    # meson-python's build_wheel hook, called as pip would call it (in the source directory, no
    # isolation), but with ninja's output straight to us: relaying NumPy's 78 MB of compiler warnings,
    # `pip wheel -v` kept most of a core busy while the compilers had two
    settings = {"build-dir": str(build_dir), "setup-args": blas.meson_args(package)}
    command = [str(env_dir / "bin" / "python"), "-c", BUILD_WHEEL_HOOK, str(out_dir), json.dumps(settings)]
    epoch = source_date_epoch(sdist)
    env = {
        **os.environ,
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
        "CCACHE_BASEDIR": str(root),
        "SOURCE_DATE_EPOCH": str(epoch),
        **({} if ccache else {"CCACHE_DISABLE": "1"}),
    }
    print(f"Building {package} {version} against {blas.label} (key {key[:16]}"
          f"{'' if ccache else ', ccache off'}); log: {log_path}", flush=True)
    ccache_before = ccache_counts()
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    try:
        _run_logged(command, env, log_path, f"{package} {version}", cwd=source)
    finally:
        shutil.rmtree(build_dir, ignore_errors=True)
    [wheel] = out_dir.glob("*.whl")
    without_cache_path(wheel, root)  # the same key, the same bytes, wherever the cache is
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "source_date_epoch": epoch,
        "build_seconds": round(time.monotonic() - started, 1),
        "build_cpu_seconds": round((cpu_after.ru_utime + cpu_after.ru_stime)
                                   - (cpu_before.ru_utime + cpu_before.ru_stime), 1),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "ccache": {"version": toolchain()["ccache"] or None,
                   **{k: v - ccache_before.get(k, 0) for k, v in ccache_counts().items()}},
        "log": str(log_path),
        "command": command,
    }


def build_wheel(package: str, version: str, blas: BLASLibrary, depends_on: BuiltWheel | None = None) -> BuiltWheel:
    """The wheel of ``package==version`` for ``openblas``: from the wheelhouse, else compiled."""
    started = time.monotonic()
    sdist = fetch_sdist(package, version)
    inputs = build_inputs(package, version, blas, sdist, depends_on)
    key = digest(inputs)
    if cached := find_cached(package, version, key):
        return replace(cached, seconds=time.monotonic() - started)
    with build_lock(package, version):
        if cached := find_cached(package, version, key):
            return replace(cached, seconds=time.monotonic() - started)
        remove_dead_partials()
        check_free(cache_dir(), package, "build tools")  # the tools' environment too, where it is still to make
        staging = wheelhouse() / f".{package}-{key[:16]}.partial{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        log_path = cache_dir() / "logs" / f"{package}-{version}-{key[:16]}.log"
        try:
            with one_line_when_full(cache_dir(), f"the build of {package} {version}"):
                staging.mkdir(parents=True)
                compiled = _compile(package, version, blas, sdist, key, staging, depends_on, log_path,
                                    inputs.get("unused_targets", []))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)  # nothing half-made stays in the wheelhouse
            raise
        [wheel] = staging.glob("*.whl")
        manifest = {
            "package": package,
            "version": version,
            "key": key,
            "inputs": inputs,
            "wheel": wheel.name,
            "wheel_sha256": file_sha256(wheel),
            "members": wheel_members(wheel),
            # not an input (the key has the library's description): tells a changed file on disk apart
            "blas_sha256": file_sha256(Path(blas.library)),
            **compiled,
        }
        write_json(staging / MANIFEST, manifest)
        final = entry_dir(package, version, key)
        shutil.rmtree(final, ignore_errors=True)
        os.replace(staging, final)
        return BuiltWheel(package, version, key, final / wheel.name, manifest, cached=False,
                          seconds=time.monotonic() - started)


@contextlib.contextmanager
def cache_elsewhere(blas: BLASLibrary, root: Path):
    """This process's cache moved to ``root`` while the block runs (a build there has its own source,
    build directory and build tools; ccache's objects are shared), with the provider's pkg-config
    directory copied there: the BLAS to build against from there."""
    saved = os.environ.get("BLASBENCH_CACHE")
    copied = root / "pkgconfig" / Path(blas.pkg_config_dir).name
    shutil.copytree(blas.pkg_config_dir, copied)
    os.environ["BLASBENCH_CACHE"] = str(root)
    try:
        yield replace(blas, pkg_config_dir=str(copied))
    finally:
        if saved is None:
            os.environ.pop("BLASBENCH_CACHE")
        else:
            os.environ["BLASBENCH_CACHE"] = saved


def check_reproducible(built: BuiltWheel, blas: BLASLibrary, depends_on: BuiltWheel | None = None,
                       how: str = "compile") -> dict:
    """Build ``built``'s key once more (``how``: a key of :data:`REBUILDS`) into a temporary directory and
    compare the two wheels member by member: ``identical``, ``differs`` (which members, and how), or
    ``library-changed`` when the BLAS file on disk is not the one the first build linked."""
    recorded = built.manifest.get("blas_sha256")
    now = file_sha256(Path(blas.library))
    if recorded is None or recorded != now:
        why = ("the wheel's manifest does not record it (built by an older blasbench)" if recorded is None
               else f"sha256 {recorded[:12]} then, {now[:12]} now")
        return {"package": built.package, "verdict": "library-changed",
                "detail": f"{blas.library} is not the file the first build linked ({why}): "
                          f"rebuild the key to compare (remove {built.wheel.parent})."}
    sdist = fetch_sdist(built.package, built.version)
    with build_lock(built.package, built.version), \
            tempfile.TemporaryDirectory(prefix=f"{built.package}-again-") as tmp:
        log_path = cache_dir() / "logs" / f"{built.package}-{built.version}-{built.key[:16]}.again.log"
        with cache_elsewhere(blas, Path(tmp) / "cache") if how == "elsewhere" else contextlib.nullcontext(blas) as where:
            compiled = _compile(built.package, built.version, where, sdist, built.key, Path(tmp), depends_on,
                                log_path, built.manifest["inputs"].get("unused_targets", []), ccache=how != "compile")
        [again] = Path(tmp).glob("*.whl")
        differences = compare_wheels(built.wheel, again)
        return {"package": built.package, "verdict": "differs" if differences else "identical", "how": how,
                "sha256": [built.manifest["wheel_sha256"], file_sha256(again)], "differences": differences,
                "seconds": compiled["build_seconds"]}


def build_all(blas: BLASLibrary, numpy_version: str = pins.NUMPY,
              scipy_version: str | None = pins.SCIPY) -> list[BuiltWheel]:
    """NumPy, then SciPy built against that NumPy (none when ``scipy_version`` is None: what
    can break with a provider, its pkg-config and meson options, linkage and what is loaded, already
    breaks in NumPy's build, at a fifth of SciPy's cost)."""
    ensure_build_dependencies()
    numpy_wheel = build_wheel("numpy", numpy_version, blas)
    if scipy_version is None:
        return [numpy_wheel]
    return [numpy_wheel, build_wheel("scipy", scipy_version, blas, depends_on=numpy_wheel)]


def _installed_from(python: str, package: str) -> str | None:
    query = (f"import importlib.metadata as m, json\n"
             f"try: print(json.loads(m.distribution({package!r}).read_text('direct_url.json') or '{{}}').get('url', ''))\n"
             f"except m.PackageNotFoundError: print('')")
    return subprocess.run([python, "-c", query], capture_output=True, text=True).stdout.strip() or None


def _satisfied(python: str, pinned: tuple[str, ...]) -> bool:
    """Whether every ``name==version`` is installed already (then pip, and a network, are not needed)."""
    query = ("import importlib.metadata as m, sys\n"
             "def have(name):\n"
             "    try: return m.version(name)\n"
             "    except m.PackageNotFoundError: return None\n"
             "sys.exit(0 if all(have(p.split('==')[0]) == p.split('==')[1] for p in sys.argv[1:]) else 1)")
    return subprocess.run([python, "-c", query, *pinned]).returncode == 0


def install(wheels: list[BuiltWheel], python: str = sys.executable, extra: tuple[str, ...] = pins.RUNTIME) -> None:
    """Install the built wheels into ``python``'s environment, then ``extra`` with NumPy/SciPy
    constrained to exactly these builds, so nothing from the index replaces them."""
    missing = [w for w in wheels if _installed_from(python, w.package) != w.wheel.as_uri()]
    if missing:
        subprocess.run([python, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--force-reinstall",
                        *(str(w.wheel) for w in missing)], check=True)
    if _satisfied(python, extra):
        return
    constraints = cache_dir() / "constraints" / f"{digest([w.key for w in wheels])[:16]}.txt"
    atomic_write_text(constraints, "".join(f"{w.package}=={w.version}\n" for w in wheels))
    if subprocess.run([python, "-m", "pip", "install", "-q", "-c", str(constraints), *extra]).returncode != 0:
        raise UserError("Installing the runtime packages failed (see pip's message above).")


def ensure(blas: BLASLibrary, numpy_version: str = pins.NUMPY, scipy_version: str | None = pins.SCIPY,
           wait_quiet: float = WAIT_QUIET_SECONDS, reproduce: str | None = None) -> dict:
    """Build (or reuse) the wheels, install them into this environment, verify them in a fresh
    process (and with ``reproduce``, a key of :data:`REBUILDS`, build each again to compare) and
    return the build result."""
    started = time.monotonic()
    print(f"BLAS: {blas.label}, {blas.version}, {blas.threading_layer}, {blas.library}", flush=True)
    wheels = build_all(blas, numpy_version, scipy_version)
    install(wheels)
    with tempfile.TemporaryDirectory() as tmp:
        verification = verify_in_fresh_process(blas, PROVIDERS[blas.provider].api, Path(tmp) / "verify.json", wait_quiet,
                                               numpy_only=len(wheels) == 1)
    reproducibility = None
    if reproduce:
        reproducibility = [check_reproducible(wheel, blas, wheels[0] if wheel.package == "scipy" else None,
                                              reproduce) for wheel in wheels]
        for check in reproducibility:
            print(f"{check['package']}: {REBUILDS[reproduce]}: {check['verdict']}"
                  + "".join(f"\n    {describe_difference(d)}" for d in check.get("differences", []))
                  + (f"\n    {check['detail']}" if "detail" in check else ""), flush=True)
    return {
        "kind": "build",
        "blas": blas.as_dict(),
        "meson_args": {w.package: blas.meson_args(w.package) for w in wheels},
        "wheels": [{"package": w.package, "version": w.version, "key": w.key, "wheel": str(w.wheel),
                    "cached": w.cached, "seconds_this_run": round(w.seconds, 1), "manifest": w.manifest}
                   for w in wheels],
        "seconds_this_run": round(time.monotonic() - started, 1),
        "verification": verification,
        "environment": verification.get("environment"),
        "identity": identity(verification.get("environment") or {}),
        **({"reproducibility": reproducibility} if reproducibility is not None else {}),
    }
