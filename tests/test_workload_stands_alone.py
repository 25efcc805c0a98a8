"""The workload (`nn`) stands alone: it imports nothing of the harness."""

import ast
from pathlib import Path

NN = Path(__file__).resolve().parent.parent / "nn"


def test_nn_imports_nothing_of_the_harness():
    imported = set()
    for path in NN.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    assert "blasbench" not in imported
