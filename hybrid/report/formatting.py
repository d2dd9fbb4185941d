"""Numbers as the page shows them: significant digits, signed differences, percentages, durations."""

from __future__ import annotations

import math

from hybrid.report.estimates import Estimate, finite


def num(x: float, digits: int = 4) -> str:
    """A number to ``digits`` significant digits, thousands separated; '–' when missing."""
    if not finite(x):
        return "–"
    if x != 0 and abs(x) < 10 ** (digits - 1):
        decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
        return f"{x:,.{decimals}f}"
    return f"{x:,.0f}"


def signed_num(x: float) -> str:
    """A difference: signed, 4 significant digits, no trailing zeros (``+0.085``)."""
    text = num(x)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return ("+" if finite(x) and x > 0 else "") + text


def diff_decimals(est: Estimate) -> int | None:
    """Decimals that show a difference as precisely as its 95% CI: two significant digits of its half-width.

    ``None`` without an interval.
    """
    if not (est.has_ci and est.half > 0):
        return None
    return max(0, 1 - math.floor(math.log10(est.half)))


def diff_text(x: float, decimals: int | None) -> str:
    """A signed difference to ``decimals`` places (``+23.5``, ``-0.00008``), or as :func:`signed_num`."""
    if decimals is None or not finite(x):
        return signed_num(x)
    text = f"{x:+,.{decimals}f}"
    return text.replace("-", "+") if float(text.replace(",", "")) == 0 else text  # no "-0.0"


def seconds_text(x: float) -> str:
    """A duration: 2 significant digits below 10 s (``0.012 s``), whole seconds above."""
    if not finite(x):
        return "–"
    return f"{num(x, 2)} s" if x < 10 else f"{x:,.0f} s"


def pct(x: float, signed: bool = False) -> str:
    """A share as a percentage to 1 decimal (2 below 0.1%), signed if ``signed``; '–' when missing."""
    if not finite(x):
        return "–"
    decimals = 2 if 0 < abs(x) < 0.001 else 1  # +0.03%, not +0.0%
    return f"{x:+.{decimals}%}" if signed else f"{x:.{decimals}%}"
