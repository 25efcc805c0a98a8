"""Per length m: each sweep's speedup at 2 threads (the medians'), the test's p and the advice."""
import sys
from pathlib import Path

from blasbench.results.directory import Results

out = Path(sys.argv[1])
for m in sorted({d.name.split("-")[0] for d in out.iterdir() if d.is_dir()}, key=lambda s: int(s[1:])):
    lines = []
    for d in sorted((d for d in out.glob(f"{m}-*") if d.is_dir()), key=lambda d: int(d.name.split("-")[1])):
        if not d.is_dir():
            continue
        [a] = Results.load(d).findings["scaling"].values()
        rows, advice = a["rows"], a["recommendation"]
        speedup = rows[0]["wall"]["median"] / rows[1]["wall"]["median"]
        steps = {s["to"]: s for s in advice["undecided"]}
        p = f", undecided p = {steps[2]['p']:.2g}" if 2 in steps else ""
        lines.append(f"{speedup:.3f}x -> {advice['threads']}{p}")
    print(f"m = {int(m[1:]):,}: " + "; ".join(lines))
