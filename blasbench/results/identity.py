"""What measured a result, read from the provenance it recorded: two results compare, and a
measurement resumes, only when their identities are equal. Readers of results use this module;
:mod:`blasbench.provenance` collects the provenance in the measuring processes."""

from __future__ import annotations

# What a reader must know differs between results before putting them side by side (the fields of
# :func:`identity`, each with its plural).
IDENTITY_WORDS = {"commit": "commits", "workload_source": "workload sources", "host": "hosts", "cpu": "CPUs",
                  "usable_cores": "usable core counts", "blas": "BLAS libraries", "wheels": "builds"}


def blas_libraries(env: dict | None) -> list[dict]:
    """threadpoolctl's records of the BLAS libraries ``env``'s processes loaded."""
    return [lib for lib in (env or {}).get("threadpool_info") or [] if lib.get("user_api") == "blas"]


def blas_of(env: dict | None) -> dict | None:
    """threadpoolctl's record of the (first) BLAS ``env`` loaded; None when it knows none."""
    return next(iter(blas_libraries(env)), None)


def identity(env: dict) -> dict:
    """What measured a result, from its recorded provenance: two results compare, and a sweep
    resumes, only when this is equal."""
    cpu = env.get("cpu") or {}
    return {
        # in the order of their paths: the order threadpoolctl finds them in is the order they were imported in
        "blas": [{k: lib.get(k) for k in ("internal_api", "filepath", "version", "threading_layer", "architecture")}
                 for lib in sorted(blas_libraries(env), key=lambda lib: lib.get("filepath") or "")],
        "wheels": env.get("wheels"),
        "commit": env.get("git_commit"),
        "workload_source": env.get("workload_source"),
        "host": env.get("host"),
        "cpu": cpu.get("model"),
        "usable_cores": cpu.get("usable_cores"),
    }


def describe(name: str, value) -> str:
    """An identity field as the reports show it."""
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
