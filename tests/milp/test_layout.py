"""milp stays readable: no module over 600 lines, no function over 80 (issue 13)."""

from __future__ import annotations

import ast
from pathlib import Path

MILP = Path(__file__).resolve().parents[2] / "milp"
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 80


def test_no_milp_module_over_600_lines() -> None:
    long = {str(p.relative_to(MILP)): n for p in sorted(MILP.rglob("*.py"))
            if (n := len(p.read_text().splitlines())) > MAX_MODULE_LINES}
    assert long == {}


def test_no_milp_function_over_80_lines() -> None:
    long = {}
    for path in sorted(MILP.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1  # nested functions count in their parent
                if lines > MAX_FUNCTION_LINES:
                    long[f"{path.relative_to(MILP)}:{node.name}"] = lines
    assert long == {}
