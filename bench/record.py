"""Machine-readable benchmark records: ``bench/results/<name>.json``, read by ``bench/render.py``.

Every benchmark that ``make bench`` runs takes ``--record FILE``; the file holds
when and where it ran (UTC date, commit, CPU count and model, Python and numpy
versions, load average), the exact command line, how long it took, and the
benchmark's own results under ``"data"`` (the same numbers it prints).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

__all__ = ["add_record_option", "command_line", "machine_facts", "write_record"]

_STARTED = time.perf_counter()


def add_record_option(parser: argparse.ArgumentParser) -> None:
    """Add ``--record FILE`` to a benchmark's argument parser."""
    parser.add_argument("--record", metavar="FILE", default=None,
                        help="also write the results as JSON to FILE (bench/results/NAME.json; "
                             "bench/render.py turns them into the tables of BENCHMARKS.md)")


def command_line(argv: list[str] | None = None) -> str:
    """The command that ran, as typed from the repository root (``python bench/x.py --opt ...``)."""
    argv = sys.argv if argv is None else argv
    script = Path(argv[0]).resolve()
    try:
        script_text = str(script.relative_to(ROOT))
    except ValueError:
        script_text = argv[0]
    return shlex.join(["python", script_text, *argv[1:]])


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _commit() -> str:
    """Short hash of HEAD, with ``+dirty`` when tracked code outside BENCHMARKS.md differs."""
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no",
                                "--", ".", ":!BENCHMARKS.md", ":!bench/results"],
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_facts() -> dict[str, Any]:
    """Where and when: UTC date, commit, CPU count and model, Python and numpy versions, load."""
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "commit": _commit(),
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "arch": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _plain(value: Any) -> Any:
    """JSON-safe: numpy scalars and arrays become Python numbers and lists, NaN/inf become None."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def write_record(path: str | Path | None, name: str, data: Any, *, command: str | None = None,
                 started: dict[str, Any] | None = None) -> Path | None:
    """Write one benchmark's record; does nothing when ``path`` is ``None``.

    :param path: the JSON file (its folder is created).
    :param name: the benchmark's name (``simulator``, ``zipkin``, ...).
    :param data: the benchmark's results, JSON-able (numpy values are converted).
    :param command: the command line (default: this process's, see :func:`command_line`).
    :param started: :func:`machine_facts` taken when the run began (default: taken now); the
        load average at the end is added.
    :return: the path written, or ``None``.
    """
    if path is None:
        return None
    facts = dict(started) if started is not None else machine_facts()
    facts["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    record = {"name": name, "command": command or command_line(), "machine": facts,
              "seconds": round(time.perf_counter() - _STARTED, 1), "data": _plain(data)}
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(f"record written: {out}", file=sys.stderr)
    return out
