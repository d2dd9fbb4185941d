"""Domain randomisation: scenario parameters drawn per sample path from ranges."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from scenarios.errors import SpecError

__all__ = ["ScenarioDistribution"]


@dataclass(frozen=True)
class ScenarioDistribution:
    """Ranges of multipliers drawn uniformly, independently per sample path.

    Each field is a ``(low, high)`` pair of multipliers on the spec's own
    value; ``(1, 1)`` leaves it fixed. Attach it to a spec as
    ``randomisation`` and every :class:`~scenarios.paths.SamplePaths` drawn
    for that spec randomises it.

    :param demand_level: multiplier on every demand stream's mean.
    :param demand_cv: multiplier on the coefficient of variation (normal and
        negative-binomial demand).
    :param lead_time: multiplier on the expected random part of lead times.
    :param holding_cost: multiplier on holding costs (on hand and pipeline).
    :param shortage_cost: multiplier on backlog / lost-sale penalties.
    """

    demand_level: tuple[float, float] = (1.0, 1.0)
    demand_cv: tuple[float, float] = (1.0, 1.0)
    lead_time: tuple[float, float] = (1.0, 1.0)
    holding_cost: tuple[float, float] = (1.0, 1.0)
    shortage_cost: tuple[float, float] = (1.0, 1.0)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = tuple(float(v) for v in getattr(self, f.name))
            if len(value) != 2 or not 0 <= value[0] <= value[1] or not np.isfinite(value[1]):
                raise SpecError(f"randomisation.{f.name}",
                                f"must be [low, high] with 0 <= low <= high, got {list(value)}")
            object.__setattr__(self, f.name, value)

    def draw(self, paths: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Draw one multiplier per path for every field, in field order.

        :return: ``{field: array (paths,)}``.
        """
        return {f.name: rng.uniform(*getattr(self, f.name), size=paths) for f in fields(self)}

    def widened(self, width: float) -> ScenarioDistribution:
        """The ranges scaled about 1 by ``width`` in [0, 1] (0: fixed, 1: full): a curriculum step."""
        if not 0 <= width <= 1:
            raise SpecError("width", f"must be in [0, 1], got {width}")
        return ScenarioDistribution(**{
            f.name: tuple(1 + width * (v - 1) for v in getattr(self, f.name)) for f in fields(self)
        })

    def to_dict(self) -> dict[str, Any]:
        """TOML-ready table (only the ranges that are not fixed at 1)."""
        return {f.name: list(getattr(self, f.name)) for f in fields(self)
                if getattr(self, f.name) != (1.0, 1.0)}

    @classmethod
    def from_dict(cls, data: Any, where: str = "randomisation") -> ScenarioDistribution:
        """Build from a TOML table, naming unknown keys."""
        if not isinstance(data, dict):
            raise SpecError(where, f"must be a table, got {type(data).__name__}")
        names = {f.name for f in fields(cls)}
        for key in data:
            if key not in names:
                raise SpecError(f"{where}.{key}", f"unknown field (allowed: {', '.join(sorted(names))})")
            if not isinstance(data[key], list | tuple):
                raise SpecError(f"{where}.{key}", f"must be [low, high], got {data[key]!r}")
        return cls(**{k: tuple(v) for k, v in data.items()})
