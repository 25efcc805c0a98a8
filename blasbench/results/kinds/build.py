"""``build.json``: NumPy and SciPy compiled against a BLAS, with their verification."""

from __future__ import annotations

from .base import Kind


def _status_from_ok(data: dict) -> dict:
    """Version 1's verification said ok, not a status."""
    if "status" not in data["verification"]:
        data["verification"]["status"] = "passed" if data["verification"]["ok"] else "failed"
    return data


def _blas_and_flavour(data: dict) -> dict:
    """Version 4 called a build's BLAS "openblas" (whichever BLAS it was) and the provider's option its "variant"."""
    blas = data.pop("openblas")
    blas["flavour"] = blas.pop("variant")
    return {**data, "blas": blas}


def describe_difference(difference: dict) -> str:
    """One member's difference in words."""
    if "only_in" in difference:
        return f"`{difference['member']}` only in the {difference['only_in']} build"
    sizes = difference["sizes"]
    where = f"first differing byte at {difference['first_difference']:,}"
    if difference.get("elf_section"):
        where += f" (in {difference['elf_section']})"
    size = f"{sizes[0]:,} bytes both" if sizes[0] == sizes[1] else f"{sizes[0]:,} vs {sizes[1]:,} bytes"
    return f"`{difference['member']}`: {size}, {where}"


class Build(Kind):
    name, file = "build", "build.json"
    required = ("wheels", "verification")
    migrations = {2: _status_from_ok, 5: _blas_and_flavour}
    command, session = "verify", "build-openblas"  # a cluster task builds (through the shared cache) and verifies


KIND = Build()
