"""The one-way arrows between the rooms (README, "How the code is laid out").

``scenarios`` <- ``milp``, ``rl`` <- ``hybrid`` <- ``cli.py``: each package imports only the
packages below it, at the top of a module or inside a function alike. ``scenarios.registry``
names the layers' factories as ``"module:function"`` text and imports them with
:func:`importlib.import_module` when a policy is built: no import statement, so not an arrow
(``tests/test_registry.py`` checks that importing ``scenarios`` imports no layer).
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OURS = {"scenarios", "milp", "rl", "hybrid", "cli", "bench", "tests"}
#: What each package may import, itself included.
ALLOWED = {
    "scenarios": {"scenarios"},
    "milp": {"scenarios", "milp"},
    "rl": {"scenarios", "rl"},
    "hybrid": {"scenarios", "milp", "rl", "hybrid"},
}


def _imported(tree: ast.AST) -> set[str]:
    """Top-level names of every absolute import in ``tree``, nested ones included."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_each_package_imports_only_the_packages_below_it() -> None:
    wrong = []
    for package, allowed in ALLOWED.items():
        for path in sorted((ROOT / package).rglob("*.py")):
            for name in sorted((_imported(ast.parse(path.read_text())) & OURS) - allowed):
                wrong.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not wrong, "\n".join(wrong)


def test_the_check_sees_imports_inside_functions() -> None:
    tree = ast.parse("import numpy\ndef f():\n    from hybrid.store import Store\n    import rl.envs\n")
    assert _imported(tree) == {"numpy", "hybrid", "rl"}
