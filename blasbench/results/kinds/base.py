"""The result format every kind shares: its version, the :class:`Kind` a kind's module subclasses,
and reading one file as a kind (checked and migrated). The registry of kinds is the package's
``__init__``; a kind's module imports this, never the registry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from ... import UserError
from ..change import decide

# The version of the result files this package writes (pyperf's _JSON_VERSION, asv's api_version).
# History (each kind's migrations say what changed for it):
# - 1: no "version" field.
# - 2: "version"; "rung" for a ladder step everywhere; every measured point and result records the
#   identity of what measured it and the load around it; the kinds "cluster" and bench's peers.
# - 3: bench records "dgemm_repeats".
# - 4: the kind "threadmap".
# - 5: a build's BLAS is "blas", the provider's option its "flavour".
# - 6: a threading map measures each thread count in "rounds", each cell with its "values".
# - 7: the kind "release" (an OpenBLAS release loaded under one build, its map beside it); one rule
#   for "changed" (results/change.py): a comparison's rows say its "verdict" (they said
#   "flag"); a threading map's measurements per process are its settings' "measurements" ("repeats",
#   the word for a fresh run of a point).
# - 8: a release point names its "axis" (OpenBLAS releases under one build, or NumPy's wheel releases)
#   and its "measure" (the kind of result beside it: a threading map or a sweep).
# - 9: an experiment's or the limits probe's way of running a process is its "condition" (it was "setup",
#   now the word for what a measurement runs on); a Slurm job records the "sbatch_environment" it was
#   submitted with (its options were "partition", "time", "account", "constraint").
# - 10: the kind "workload" (several functions swept side by side on one setup); a function's workload
#   records the git "revision" its file was taken from ("" for the working tree).
RESULT_VERSION = 10


def conditions_were_setups(rows: list[dict]) -> list[dict]:
    """Version 9: rows of experiments or limits name their "condition" (version 8: "setup")."""
    return [{("condition" if key == "setup" else key): value for key, value in row.items()} for row in rows]


class Kind:
    """One kind of result. A subclass declares:

    - ``name``: the file's ``kind`` field; ``file``: its name in a results directory;
    - ``required``: what every version of it has, under the same name (checked before migrating);
    - ``migrations``: version N -> the function that brings a version N-1 file of this kind to N
      (a version that changed nothing for this kind has none);
    - ``command``, ``session``: the command that writes it and the nox session that runs that
      command, where a cluster task can run it (None otherwise);
    - ``table``, ``measure_title``: the name and title of ``compare``'s table of its measures,
      where it has measures;
    - ``cell_fields``, ``cell_unit``, ``point_title``, ``point_verb``: where a release axis can measure
      it at each point, what names one of its cells beside the thread count, what one of its seconds is
      per, and how reports say what a point measured (``threading map``, ``mapped``);
    - ``more_processes``: the option that gives each of its cells more processes (the rule's samples), for
      reports to name where the rule is undecided;

    and may override :meth:`load` (where it is), :meth:`analyse` (its findings, computed once per
    directory), :meth:`nested` and :meth:`gather` (other directories its result gathers),
    :meth:`measures` (what ``compare`` puts side by side) and, as a release axis's measure,
    :meth:`cells` and :meth:`cell_name`.
    """

    name: str
    file: str
    required: tuple[str, ...] = ()
    migrations: dict[int, Callable[[dict], dict]] = {}
    command: str | None = None
    session: str | None = None
    table: str = ""
    measure_title: str | None = None
    cell_fields: tuple[str, ...] = ()
    cell_unit: str = "call"
    point_title: str = ""
    point_verb: str = ""
    more_processes: str = ""

    def load(self, directory: Path) -> Any:
        """This kind's result in ``directory``, read and migrated; None where there is none."""
        path = Path(directory) / self.file
        return read_kind(path, self) if path.exists() else None

    def analyse(self, result: Any) -> Any:
        """What the result says, computed once when its directory is read."""
        return None

    def environments(self, result: Any) -> list[tuple[str, dict]]:
        """(what, environment) of each provenance the result recorded."""
        return [(self.name, result["environment"])] if result.get("environment") else []

    def nested(self, directory: Path) -> dict[str, Path]:
        """Directories of results that this kind's result gathers (a Slurm job's tasks), by name: the
        directory reader reads each and hands them to :meth:`gather`. None by default."""
        return {}

    def gather(self, result: Any, nested: dict[str, Any]) -> Any:
        """The result with the directories of :meth:`nested`, each read (a ``Results``)."""
        return result

    def measures(self, result: Any, findings: Any) -> dict[tuple, dict]:
        """Key -> summary (n, median, q1, q3, min, max, and one value per process as ``processes``
        where kept) of what ``compare`` puts side by side in its table ``table``; a key is (what,
        of what, thread count): a call and its size, or a rung and its workload."""
        return {}

    def cells(self, result: Any) -> dict[int, dict[tuple, dict]]:
        """threads -> cell (its ``cell_fields``' values) -> the summary of its seconds with ``processes``,
        one value per process (what the rule for "changed" tests): what a release axis compares between
        neighbours. By default :meth:`measures`' keys, (what, of what, threads), with ``cell_fields`` the first two."""
        found: dict[int, dict[tuple, dict]] = {}
        for (*cell, threads), summary in self.measures(result, None).items():
            found.setdefault(threads, {})[tuple(cell)] = summary
        return found

    def cell_name(self, cell: dict) -> str:
        """How reports name one of its cells, given its ``cell_fields``: by default each field's value, the first in backticks."""
        first, *more = (cell[field] for field in self.cell_fields)
        return f"`{first}`" + "".join(f" ({value})" for value in more)

    def panel(self, cell: tuple) -> tuple[str, str]:
        """Where a cell's line goes in the releases' figure: the panel's title and the line's name in it."""
        return str(cell[0]), ""


# The kinds a release axis can measure (those with ``cell_fields``), by name, in the order reports show them:
# filled by the registry's ``register``, read by the release kind.
MEASURED: dict[str, Kind] = {}


def compare_cells(kind: Kind, old: dict, new: dict):
    """Each cell that two results of ``kind`` share (``old``, ``new``: its :meth:`Kind.cells`), at each thread
    count both measured, compared by the rule for "changed": the cell's fields, ``threads``, the two medians
    (``seconds``), the processes each side had, and the rule's decision."""
    for threads in sorted(set(old) & set(new)):
        for key in (key for key in old[threads] if key in new[threads]):
            before, after = old[threads][key], new[threads][key]
            yield {**dict(zip(kind.cell_fields, key)), "threads": threads, "seconds": [before["median"], after["median"]],
                   "processes": [len(before["processes"]), len(after["processes"])],
                   **decide(before["processes"], after["processes"])}


def read_kind(path: Path, kind: Kind) -> dict:
    """The result of ``kind`` in ``path``, migrated to the current version; a file that is
    missing, unreadable, not JSON, of another kind or of a newer version is a one-line error."""
    path, name = Path(path), kind.name
    fix = "move it away and run the command that writes it again"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise UserError(f"{path} does not exist: run the command that writes it first.") from None
    except (OSError, UnicodeDecodeError) as e:
        reason = getattr(e, "strerror", None) or e
        raise UserError(f"{path} cannot be read ({reason}): check its permissions, or {fix}.") from None
    except json.JSONDecodeError as e:
        what = "is empty" if not path.read_bytes().strip() else f"is not valid JSON (line {e.lineno}: cut short or edited)"
        raise UserError(f"{path} {what}: {fix}.") from None
    if not isinstance(data, dict) or data.get("kind") != name:
        found = data.get("kind") if isinstance(data, dict) else type(data).__name__
        raise UserError(f"{path} is not a {name} result (kind: {found!r}): {fix}.")
    if missing := [key for key in kind.required if key not in data]:
        raise UserError(f"{path} is a {name} result without {', '.join(missing)}: {fix}.")
    version = data.get("version", 1)
    if not isinstance(version, int) or version > RESULT_VERSION:
        raise UserError(f"{path} has result version {version!r}, newer than this blasbench reads ({RESULT_VERSION}): "
                        "update blasbench (git pull) to read it.")
    try:
        for reached in range(version + 1, RESULT_VERSION + 1):  # asv's update_to_N: readers see the current version only
            data = {**kind.migrations.get(reached, dict)(data), "version": reached}
    except (KeyError, TypeError, AttributeError) as e:  # a field a migration reads is missing or of another type
        raise UserError(f"{path} is a version {version} {name} result that lacks what it should have ({e!r}): {fix}.") from None
    return data
