"""Running a peer package (OR-Gym, stockpyl) from echelon's benchmarks.

The peers pin old packages (gym 0.19, numpy < 2), so they live in their own
virtual environment, ``.venv-peers`` (``make bench-peers`` builds it). A
benchmark runs in echelon's main environment and calls its own file again
under ``.venv-peers/bin/python`` with ``--peer``; inputs and results travel as
``.npz`` files. Without ``.venv-peers`` the peer rows are skipped with a
message saying how to get them.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PEERS_PYTHON = ROOT / ".venv-peers" / "bin" / "python"

__all__ = ["PEERS_PYTHON", "ROOT", "peer_missing", "run_peer"]


def peer_missing(module: str) -> str | None:
    """Why the peer ``module`` cannot run (``None``: it can).

    :param module: the peer's import name, ``or_gym`` or ``stockpyl``.
    """
    if not PEERS_PYTHON.exists():
        return f"skipped: {PEERS_PYTHON.relative_to(ROOT)} is absent (run `make bench-peers` to build it)"
    probe = subprocess.run([str(PEERS_PYTHON), "-c", f"import {module}"], capture_output=True, text=True)
    if probe.returncode:
        last = (probe.stderr.strip().splitlines() or ["?"])[-1]
        return f"skipped: `import {module}` fails in .venv-peers ({last})"
    return None


def run_peer(script: Path, task: str, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Run ``script --peer task IN OUT`` under the peer interpreter and load what it wrote.

    :param script: the benchmark file; its ``--peer`` mode must read ``IN``
        (an ``.npz`` of ``inputs``) and write ``OUT`` (an ``.npz``).
    :param task: which peer job to run (the script's own names).
    :param inputs: arrays to hand over.
    :return: the arrays the peer wrote.
    :raises RuntimeError: the peer process failed (its stderr is included).
    """
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(src, **inputs)
        done = subprocess.run([str(PEERS_PYTHON), str(script), "--peer", task, str(src), str(dst)],
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"peer task {task!r} failed:\n{done.stderr[-3000:]}")
        if done.stderr.strip():
            print(done.stderr.strip(), file=sys.stderr)
        with np.load(dst) as out:
            return {k: out[k] for k in out.files}
