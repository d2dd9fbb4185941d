"""The one error type for invalid scenarios, options and policies."""

from __future__ import annotations

__all__ = ["SpecError"]


class SpecError(ValueError):
    """Invalid input, naming the field and the reason.

    ``str(err)`` reads ``"<field>: <reason>"``, e.g.
    ``"nodes[1].holding_cost: must be >= 0, got -1"``. The CLI prints it and
    exits with code 2.

    :param field: dotted path of the offending field (``arcs[2].lead_time.value``).
    :param reason: why the value is rejected, ending with the value seen.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")
