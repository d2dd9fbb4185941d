"""bench/ is fenced: every script reaches the project one way (``import common``), none shadows a package."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ("scenarios", "milp", "rl", "hybrid", "bench")
#: Imported as ``bench.NAME`` by other scripts, never run: they need no path of their own.
HELPERS = {"common.py", "record.py", "peers_common.py", "summary.py"}


def _packages() -> list[str]:
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    return [*setup["packages"], *setup["py-modules"]]


def test_no_bench_file_is_named_like_a_package_or_module_of_the_project() -> None:
    names = {p.stem for p in (ROOT / "bench").glob("*.py")}
    assert names.isdisjoint(_packages()), "bench/ comes first on sys.path: it would shadow the package"


def _top_imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text())
    out = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            out += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append(node.module)
    return out


def test_every_script_imports_common_first_and_inserts_no_path_itself() -> None:
    for path in sorted((ROOT / "bench").glob("*.py")):
        if path.name in HELPERS:
            continue
        text = path.read_text()
        assert "sys.path.insert" not in text, f"{path.name}: the path insert belongs in bench/common.py"
        imports = [m for m in _top_imports(path) if m != "__future__"]
        assert "common" in imports, f"{path.name} does not start with `import common`"
        project = [i for i, m in enumerate(imports) if m.split(".")[0] in PROJECT]
        first = imports.index("common")
        assert all(i > first for i in project), f"{path.name}: a project import before common"


def test_common_makes_a_script_import_this_checkout() -> None:
    """As ``python bench/NAME.py`` from elsewhere: bench/ first on the path, nothing else of ours."""
    code = ("import sys; sys.path[0] = sys.argv[1]; import common, scenarios, bench.record; "
            "print(scenarios.__file__); print(bench.record.__file__)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", code, str(ROOT / "bench")], capture_output=True, text=True,
                          cwd=tempfile.gettempdir(), env=env)
    assert done.returncode == 0, done.stderr
    assert all(Path(line).is_relative_to(ROOT) for line in done.stdout.split()), done.stdout


def test_the_shared_parser_has_record_quick_and_json() -> None:
    import common

    args = common.parser("Title line.\n\nMore.", quick="q", json="j").parse_args(["--quick", "--record", "x"])
    assert (args.quick, args.json, args.record) == (True, False, "x")
    assert common.parser("Title line.\n\nMore.").description == "Title line."
    assert vars(common.parser("T.", record=False).parse_args([])) == {}
