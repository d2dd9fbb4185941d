"""The one error type for invalid scenarios, options and policies."""

from __future__ import annotations

from typing import Any

__all__ = ["SpecError"]


class SpecError(ValueError):
    """Invalid input, naming the field and the reason.

    ``str(err)`` reads ``"<field>: <reason>"``, e.g.
    ``"nodes[1].holding_cost: must be >= 0, got -1"``. The CLI prints it and
    exits with code 2.

    It pickles with its subclasses (a batch worker sends it to the parent
    process), field, reason and any other attribute included.

    :param field: dotted path of the offending field (``arcs[2].lead_time.value``).
    :param reason: why the value is rejected, ending with the value seen.
    """

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The default rebuilds with type(self)(*self.args): one argument, the message,
        # which neither this __init__ nor a subclass's takes.
        return _rebuild, (type(self), self.args, self.__dict__)


def _rebuild(cls: type[SpecError], args: tuple[Any, ...], state: dict[str, Any]) -> SpecError:
    """An unpickled :class:`SpecError` (or subclass) without calling its ``__init__``."""
    err = cls.__new__(cls, *args)
    err.args = args
    err.__dict__.update(state)
    return err
