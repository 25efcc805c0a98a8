"""reports/compare/compare.md: runs side by side."""

from __future__ import annotations

from .format import fmt, table

TABLE_TITLES = {"scaling": "Thread scaling (seconds per CG iteration)", "variants": "BLAS variants (seconds per CG iteration)",
                "bench": "Benchmark (seconds per cost-and-gradient)", "threadmap": "Threading map (seconds per call)"}


def render_compare(comparison: dict) -> str:
    """Runs side by side: who they are (from provenance), then every shared measure."""
    runs = comparison["runs"]
    fields = ["cpu", "blas", "numpy", "python", "commit", "host", "date"]
    parts = [
        "# Comparison of runs",
        "Each run is identified by the provenance its results recorded. Ratios are other/" + runs[0]["label"]
        + " of the medians, with the range from the runs' extremes; a difference is flagged **slower**/**faster** "
        f"only when the ratio passes {comparison['factor']:.2f} (or its inverse) and the two runs' ranges do not "
        "overlap, as `asv continuous` decides; a side with a single run has no known noise and is not flagged.",
        table(["run", *fields, "directory"], [[r["label"], *(fmt(r["description"][f]) for f in fields), f"`{r['directory']}`"]
                                             for r in runs]),
    ]
    if comparison["differs_in"]:
        parts.append("The runs differ in: " + ", ".join(comparison["differs_in"])
                     + ". Ratios then compare machines or builds, not only noise.")
    if not comparison["tables"]:
        parts.append("_No measure appears in both runs (different rungs, thread counts or workloads)._")
    # In one fixed order: a comparison read back from disk has its tables sorted by name.
    for name, rows in sorted(comparison["tables"].items(), key=lambda item: list(TABLE_TITLES).index(item[0])):
        flagged = [r for r in rows if r["flag"] in ("slower", "faster")]
        cells = []
        for r in rows:
            flag = f"**{r['flag']}**" if r in flagged else r["flag"]
            cells.append([*(str(k) for k in r["key"]), f"{r['base']['median']:.4f} (n={r['base']['n']})",
                          f"{r['other_label']}: {r['other']['median']:.4f} (n={r['other']['n']})",
                          f"{r['ratio']:.2f} [{r['ratio_range'][0]:.2f}, {r['ratio_range'][1]:.2f}]", flag])
        parts += [f"## {TABLE_TITLES.get(name, name)}",
                  f"{len(flagged)} of {len(rows)} differences are beyond the noise.",
                  table(["measure", "workload", "threads", f"{runs[0]['label']} median s", "other median s",
                         "ratio [range]", "verdict"], cells)]
    return "\n\n".join(parts) + "\n"
