"""pyproject.toml: `make test` collects every package's doctests; ruff reports unused `noqa`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFIG = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_pytest_collects_the_doctests_of_every_package_and_the_cli() -> None:
    pytest_options = CONFIG["tool"]["pytest"]["ini_options"]
    setup = CONFIG["tool"]["setuptools"]
    assert "--doctest-modules" in pytest_options["addopts"]
    # a subpackage's doctests are collected with its top-level package's
    missing = [p for p in setup["packages"] if p.split(".")[0] not in pytest_options["testpaths"]]
    missing += [f"{m}.py" for m in setup["py-modules"] if f"{m}.py" not in pytest_options["testpaths"]]
    assert not missing, f"doctests not collected by `make test`: {missing}"


def test_ruff_reports_unused_noqa() -> None:
    assert "RUF100" in CONFIG["tool"]["ruff"]["lint"]["select"]
