"""What every benchmark script shares: this checkout on ``sys.path``, its options and its record.

Every script in ``bench/`` starts its imports with ``import common`` (this file) and reaches the
project as an installed user would (``from scenarios import ...``, ``from milp import ...``).

Why a path insert at all: ``python bench/NAME.py`` puts ``bench/`` first on ``sys.path``, not the
repository root. Without the insert, ``import scenarios`` would load whatever copy pip installed
(in a second clone or a git worktree, *another checkout's code*: the benchmark would time the
wrong code), and the shared helpers (``bench.record``, ``bench.rl_experiments``) would not be
found at all. Because ``bench/`` comes first, no file in it may be named like a package
(``scenarios``, ``milp``, ``rl``, ``hybrid``, ``cli``): it would shadow the package in every
script (``tests/bench/test_common.py`` checks).

The rest is what the scripts used to repeat: an argument parser with ``--record`` (and
``--quick``, ``--json`` where the script has them), and the record helpers of
:mod:`bench.record`. It imports only the stdlib and numpy (through :mod:`bench.record`), so
the peer benchmarks can import it under ``.venv-peers`` too, where the project cannot run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.record import add_record_option, machine_facts, write_record  # noqa: E402  (needs ROOT above)

__all__ = ["ROOT", "machine_facts", "parser", "write_record"]


def parser(doc: str | None, *, quick: str | None = None, json: str | None = None,
           record: bool = True) -> argparse.ArgumentParser:
    """An argument parser described by the first paragraph of ``doc`` (the script's docstring).

    :param quick: help of a ``--quick`` flag (``None``: no flag).
    :param json: help of a ``--json`` flag (``None``: no flag).
    :param record: add ``--record FILE`` (:func:`bench.record.add_record_option`).
    """
    out = argparse.ArgumentParser(description=(doc or "").strip().split("\n\n")[0])
    if quick is not None:
        out.add_argument("--quick", action="store_true", help=quick)
    if json is not None:
        out.add_argument("--json", action="store_true", help=json)
    if record:
        add_record_option(out)
    return out
