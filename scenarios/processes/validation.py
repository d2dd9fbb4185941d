"""Checks shared by the process specs and the draws: numbers, rules, kinds, dict round trips.

Every check raises :class:`~scenarios.errors.SpecError` naming the field and the value seen.
The spec checks store the coerced value on the frozen dataclass (``object.__setattr__``).
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Sequence
from dataclasses import MISSING, fields, is_dataclass
from typing import Any

import numpy as np

from scenarios.errors import SpecError

_COMPARE = {">=": operator.ge, ">": operator.gt}  # the rules `check` understands
#: Largest magnitude of any number in a spec: beyond it, costs summed over paths and periods
#: overflow float64 and integers leave the range numpy and TOML can hold.
MAX_MAGNITUDE = 1e12


# -- the specs' fields --------------------------------------------------------------------------

def _number(value: Any, name: str, integer: bool = False) -> Any:
    """Return ``value`` as a float (an int if ``integer``) within ``MAX_MAGNITUDE``, or raise SpecError."""
    kind = numbers.Integral if integer else numbers.Real
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SpecError(name, f"must be {'an integer' if integer else 'a number'}, got {value!r}")
    value = int(value) if integer else float(value)
    if not math.isfinite(value):
        raise SpecError(name, f"must be finite, got {value}")
    if abs(value) > MAX_MAGNITUDE:
        raise SpecError(name, f"must be within ±{MAX_MAGNITUDE:g}, got {value:g}")
    return value


def check(obj: Any, name: str, rule: str = "", integer: bool = False) -> None:
    """Check ``obj.name`` against ``rule`` (``">= 0"``, ``"in [0, 1)"``) and store it coerced."""
    value = _number(getattr(obj, name), name, integer)
    if rule.startswith("in "):
        low, high = (float(bound) for bound in rule[4:-1].split(","))
        ok = (value >= low if rule[3] == "[" else value > low) and (
            value <= high if rule[-1] == "]" else value < high)
    else:
        ok = not rule or _COMPARE[rule.split()[0]](value, float(rule.split()[1]))
    if not ok:
        raise SpecError(name, f"must be {rule}, got {value:g}")
    object.__setattr__(obj, name, value)


def as_sequence(value: Any, name: str, integer: bool = False) -> tuple:
    """Return ``value`` as a tuple of finite numbers (ints if ``integer``), each >= 0, or raise SpecError."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        raise SpecError(name, f"must be a list of numbers, got {value!r}")
    items = tuple(_number(item, f"{name}[{i}]", integer) for i, item in enumerate(value))
    for i, item in enumerate(items):
        if item < 0:
            raise SpecError(f"{name}[{i}]", f"must be >= 0, got {item:g}")
    return items


def check_sequence(obj: Any, name: str, integer: bool = False) -> None:
    """Store ``obj.name`` as a tuple of finite numbers (ints if ``integer``), each >= 0."""
    object.__setattr__(obj, name, as_sequence(getattr(obj, name), name, integer))


def check_choice(obj: Any, name: str, choices: tuple[str, ...]) -> None:
    """Check that ``obj.name`` is one of ``choices``."""
    if getattr(obj, name) not in choices:
        raise SpecError(name, f"must be one of {', '.join(choices)}, got {getattr(obj, name)!r}")


def check_kind(obj: Any, nested: dict[str, type], allowed: dict[str, tuple[str, ...]],
               required: dict[str, tuple[str, ...]]) -> None:
    """Check the nested specs' types; reject fields the kind does not use, demand those it needs."""
    for name, cls in nested.items():
        value = getattr(obj, name)
        if value is not None and not isinstance(value, cls):
            raise SpecError(name, f"must be a {cls.__name__} table, got {value!r}")
    for f in fields(obj):
        value = getattr(obj, f.name)
        used = f.name in allowed[obj.kind] or f.name in nested
        if f.default is not MISSING and value != f.default and not used:
            raise SpecError(f.name, f"is not used by kind {obj.kind!r}, got {value!r}")
    for name in required.get(obj.kind, ()):
        if getattr(obj, name) in (None, ()):
            raise SpecError(name, f"is required for kind {obj.kind!r}")


def spec_to_dict(obj: Any) -> dict[str, Any]:
    """Return a TOML-ready dict of a spec dataclass, leaving out fields at their defaults."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if f.default is MISSING or value != f.default:
            out[f.name] = spec_to_dict(value) if is_dataclass(value) else _plain(value)
    return out


def _plain(value: Any) -> Any:
    """Tuples (nested too, as a matrix's rows) as lists; anything else as it is."""
    return [_plain(item) for item in value] if isinstance(value, tuple) else value


def spec_from_dict(cls: type, data: Any, where: str, nested: dict[str, type]) -> Any:
    """Build ``cls`` from a dict, naming every bad field with the ``where`` prefix."""
    if not isinstance(data, dict):
        raise SpecError(where, f"must be a table, got {data!r}")
    names = [f.name for f in fields(cls)]
    for key in data:
        if key not in names:
            raise SpecError(f"{where}.{key}", f"unknown key; expected one of {', '.join(names)}")
    for f in fields(cls):
        if f.default is MISSING and f.name not in data:
            raise SpecError(f"{where}.{f.name}", "is required")
    kwargs = dict(data)
    for name, sub in nested.items():
        if kwargs.get(name) is not None:
            kwargs[name] = spec_from_dict(sub, kwargs[name], f"{where}.{name}", {})
    try:
        return cls(**kwargs)
    except SpecError as err:
        raise SpecError(f"{where}.{err.field}", err.reason) from None


# -- the draws' arguments -----------------------------------------------------------------------


def check_shape(paths: int, periods: int) -> None:
    """Check that ``paths`` and ``periods`` are integers ``>= 1``."""
    for name, value in (("paths", paths), ("periods", periods)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise SpecError(name, f"must be an integer >= 1, got {value!r}")


def per_path(values: np.ndarray | None, paths: int, name: str, rule: str) -> np.ndarray:
    """Return a validated per-path multiplier ``(paths,)``; ones when ``values`` is None."""
    if values is None:
        return np.ones(paths)
    out = np.asarray(values, dtype=float)
    if out.shape != (paths,):
        raise SpecError(name, f"must have shape ({paths},), got {out.shape}")
    low = out.min()
    if not np.all(np.isfinite(out)) or not _COMPARE[rule[:-2]](low, 0):
        raise SpecError(name, f"must be finite and {rule}, got min {low:g}")
    return out
