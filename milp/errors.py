"""Errors of the MILP layer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scenarios.errors import SpecError

if TYPE_CHECKING:
    from scenarios.spec import Spec

__all__ = ["InfeasibleWindow", "PLANNED_TIMINGS", "TIMINGS", "require_timing"]

#: The simulator's timings the MILP layer's bounds and static programs implement (not ``"orgym"``).
TIMINGS = ("order-first", "demand-first")
#: The timings the window model (and so the rolling-horizon planner) implements.
PLANNED_TIMINGS = (*TIMINGS, "orgym")


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


def require_timing(spec: Spec, what: str, timings: tuple[str, ...] = TIMINGS) -> None:
    """Raise :class:`SpecError` naming ``timing`` when the model does not implement the spec's timing.

    :param spec: the scenario.
    :param what: who asks, for the message (``"the MILP model"``, ``"optimise_static"``...).
    :param timings: the timings ``what`` implements.
    """
    if spec.timing not in timings:
        raise SpecError("timing", f"{what} implements timing {' and '.join(map(repr, timings))} only, "
                        f"not {spec.timing!r} (scenario {spec.name!r}); it would plan a different "
                        "sequence of events than the simulator runs")
