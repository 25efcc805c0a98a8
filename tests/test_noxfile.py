"""noxfile.py cannot import the package it installs, so it repeats a few pins: they must agree."""

import ast
from pathlib import Path

from blasbench import pins

NOXFILE = Path(__file__).resolve().parent.parent / "noxfile.py"


def constants() -> dict:
    tree = ast.parse(NOXFILE.read_text())
    return {node.targets[0].id: ast.literal_eval(node.value) for node in tree.body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id.isupper()}


def test_the_sessions_pin_the_same_versions_as_the_package():
    found = constants()
    assert found["PLOTTING"] in pins.RUNTIME
    assert found["PYPI_NUMPY"] == (f"numpy=={pins.NUMPY}", f"scipy=={pins.SCIPY}")
