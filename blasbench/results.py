"""A results directory, read once: every result file in it, checked and migrated by
:func:`blasbench.store.read_result`, in one object that the reports and ``compare`` take."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from . import UserError
from .provenance import identity
from .setups import VARIANTS
from .store import read_result

# The single-file results of a directory, by kind.
SINGLE = ("build", "profile", "scaling", "why", "bench", "threadmap", "compare", "cluster")
# What a reader must know differs between results before putting them side by side.
IDENTITY_WORDS = {"commit": "commits", "workload_source": "workload sources", "host": "hosts", "cpu": "CPUs",
                  "blas": "BLAS libraries", "wheels": "builds"}


@dataclass
class Results:
    directory: Path
    build: dict | None = None
    profile: dict | None = None
    scaling: dict | None = None
    why: dict | None = None
    bench: dict | None = None
    threadmap: dict | None = None
    compare: dict | None = None
    cluster: dict | None = None
    variants: list[dict] = field(default_factory=list)

    @classmethod
    def load(cls, directory: Path) -> Results:
        directory = Path(directory)
        if not directory.is_dir():
            raise UserError(f"{directory} is not a results directory: pass one that `scaling`, `bench`, "
                            "`build-openblas` or `compare-variants` wrote (default reports/).")
        found = {kind: read_result(directory / f"{kind}.json", kind)
                 for kind in SINGLE if (directory / f"{kind}.json").exists()}
        return cls(directory, **found, variants=load_variants(directory))

    def environments(self) -> list[tuple[str, dict]]:
        """(what, environment) of every result that recorded one."""
        found = [(kind, result["environment"]) for kind in SINGLE
                 if (result := getattr(self, kind)) and result.get("environment")]
        found += [(f"variant {r['variant']['name']}", r["environment"]) for r in self.variants if r.get("environment")]
        return found

    def mixed(self) -> dict[str, list[str]]:
        """The identity fields on which this directory's results differ, with their values (a
        dirty tree counts as its own commit). Variants differ in BLAS and build by design: they
        count for commits, hosts and CPUs only."""
        values: dict[str, list[str]] = {}
        for what, env in self.environments():
            ident = identity(env)
            for name in IDENTITY_WORDS:
                if what.startswith("variant ") and name in ("blas", "wheels"):
                    continue
                found = values.setdefault(name, [])
                if (text := describe(name, ident[name])) not in found:
                    found.append(text)
        return {name: found for name, found in values.items() if len(found) > 1}

    def dirty(self) -> bool:
        return any("-dirty" in str(env.get("git_commit") or "") for _, env in self.environments())


def describe(name: str, value) -> str:
    if name == "blas":
        return ", ".join(f"{lib['internal_api']} {lib.get('version')} {lib.get('threading_layer')} `{lib['filepath']}`"
                         for lib in sorted(value, key=lambda lib: lib["filepath"])) or "none known to threadpoolctl"
    if name == "wheels":
        return ", ".join(f"{k} {v}" for k, v in (value or {}).items()) or "unknown"
    if name == "commit":
        commit, dirty, diff = str(value).partition("-dirty")
        return commit[:12] + dirty + diff if value else "unknown"
    if name == "workload_source":
        return str(value)[:12] if value else "not recorded"
    return str(value)


def task_directories(job_directory: Path) -> dict[str, Path]:
    """A Slurm job's task directories (``<task>-<node>``), by task number."""
    return {path.name.split("-", 1)[0]: path for path in sorted(Path(job_directory).iterdir())
            if path.is_dir() and path.name.split("-", 1)[0].isdigit()}


def load_variants(results: Path) -> list[dict]:
    """Every variant measured under ``results``, each with its sweep and its threading map when
    there are."""
    records = []
    order = list(VARIANTS)
    paths = (results / "variants").glob("*/variant.json")
    for path in sorted(paths, key=lambda p: (order.index(p.parent.name) if p.parent.name in order else len(order), p)):
        record = read_result(path, "variant")
        sweep = path.with_name("scaling.json")
        record["scaling"] = read_result(sweep, "scaling") if sweep.exists() else None
        threadmap = path.with_name("threadmap.json")
        record["threadmap"] = read_result(threadmap, "threadmap") if threadmap.exists() else None
        records.append(record)
    return records


def bench_label(row: dict) -> str:
    """A bench row's name: the rung and its dtype, or the peer."""
    return f"{row['rung']} {row['dtype']}" if row.get("rung") else row["peer"]
