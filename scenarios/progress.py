"""One small protocol for reporting long work: ``progress(task, done, total)``.

Long-running library functions (a simulation, period by period; the hindsight
bound, path by path; the planner's safety-stock tuning, candidate by
candidate) take an optional ``progress`` callable and call it as

* ``progress(task, 0, total)`` when a task starts,
* ``progress(task, done, total)`` as units finish, ``done`` increasing to ``total``;

``task`` is a short phrase ("hindsight bound on 20 paths"), ``total`` the
number of units, or ``None`` for a step whose size is unknown (then ``done``
is 0). A call with another ``task`` starts the next task. ``None`` (the
default everywhere) reports nothing and costs one ``if`` per unit.

The CLI draws these as progress bars with an ETA on stderr; :func:`messages`
turns them into one line per task for scripts that log text.

Policy factories are called through the registry with a fixed signature
(:func:`scenarios.registry.build_policy`); the ones that do long work (the
planner's tuned safety stock) read the caller's progress with
:func:`current`, which :func:`scenarios.evaluate.evaluate_policies` sets while it
builds a policy (:func:`reporting`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Protocol

__all__ = ["Progress", "current", "messages", "part", "reporting"]


class Progress(Protocol):
    """Called as ``progress(task, done, total)``; see the module docstring."""

    def __call__(self, task: str, done: int, total: int | None) -> None:
        """``done`` of ``total`` units of ``task`` are finished (``total`` ``None``: size unknown)."""


def part(progress: Progress | None, task: str, index: int, count: int) -> Progress | None:
    """Report a callee's progress on part ``index`` (from 0) of ``count`` equal parts as ``task``'s.

    For a loop whose every step does counted work of the same size: the planner's
    safety tuning runs one simulation of ``T`` periods per candidate, so candidate
    ``i`` at period ``t`` is ``i * T + t`` of ``count * T`` units of one task.

    >>> seen = []
    >>> report = part(lambda *a: seen.append(a), "tuning", 1, 3)
    >>> report("simulating", 5, 10)
    >>> seen
    [('tuning', 15, 30)]
    """
    if progress is None:
        return None

    def report(_task: str, done: int, total: int | None) -> None:
        if total:
            progress(task, index * total + done, count * total)
        else:
            progress(task, 0, None)

    return report


def messages(say: Callable[[str], None]) -> Progress:
    """A progress that calls ``say(task)`` once per task (for scripts that print lines)."""
    last: list[str] = []

    def report(task: str, done: int, total: int | None) -> None:
        if not last or last[0] != task:
            last[:] = [task]
            say(task)

    return report


_current: ContextVar[Progress | None] = ContextVar("echelon_progress", default=None)


def current() -> Progress | None:
    """The progress set by the innermost :func:`reporting` block, if any."""
    return _current.get()


@contextmanager
def reporting(progress: Progress | None) -> Iterator[None]:
    """Make ``progress`` what :func:`current` returns inside the block."""
    token = _current.set(progress)
    try:
        yield
    finally:
        _current.reset(token)
