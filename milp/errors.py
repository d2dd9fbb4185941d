"""Errors of the MILP layer."""

from __future__ import annotations

from scenarios.errors import SpecError

__all__ = ["InfeasibleWindow"]


class InfeasibleWindow(SpecError):
    """A planning window has no feasible plan.

    A subclass of :class:`~scenarios.errors.SpecError`, so the CLI prints it on
    one line and exits with code 2. ``families`` names the constraint families
    that bind: relaxing any one of them alone makes the window feasible (or,
    when no single family does, the families an elastic re-solve had to
    stretch).

    :param families: names of the binding constraint families (e.g. ``("storage",)``).
    :param detail: one sentence on what was tried.
    """

    def __init__(self, families: tuple[str, ...], detail: str = "") -> None:
        self.families = tuple(families)
        named = " or ".join(repr(f) for f in self.families) if self.families else "unknown"
        reason = f"no feasible plan; binding constraint family: {named}"
        super().__init__("milp", f"{reason} ({detail})" if detail else reason)
