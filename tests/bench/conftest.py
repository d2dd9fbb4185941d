"""bench/ first on ``sys.path``, as ``python bench/NAME.py`` has it (the scripts' ``import common`` works)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))
