"""Helpers shared by the RL tests: small anchors, tuned once per scenario (``make_anchor`` caches)."""

from __future__ import annotations

from rl.anchor import Anchor, make_anchor
from scenarios import builtin

SCENARIOS = ["serial-3", "lost-sales-poisson", "seasonal-grocery"]


def small_anchor(name: str, family: str = "sS") -> Anchor:
    """A quickly tuned anchor: 16 paths x 40 periods, at most 8 search iterations."""
    return make_anchor(builtin.get(name), family, paths=16, periods=40, max_iterations=8)
