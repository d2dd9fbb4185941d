"""Batch files: scenarios × policies × seeds in TOML, checked whole before anything runs.

::

    # bench/batch_example.toml
    paths = 50                      # test paths per run
    periods = 52                    # measured periods (default: each scenario's horizon)
    seeds = [0, 1, 2, 3, 4]         # or a count: seeds = 5 means 0..4
    bound = false                   # also solve the hindsight bound (MILP) per path
    scenarios = [
        "serial-3",                               # a built-in name
        "my-network.toml",                        # a TOML file, relative to this file
        { distribution = "seasonal-grocery", draws = 3, seed = 1 },
    ]
    policies = ["sS", "base-stock", "rolling-horizon:horizon=13", "rl:path=models/agent"]

A ``distribution`` entry draws ``draws`` concrete scenarios from a
:class:`~scenarios.distribution.ScenarioDistribution`: the base scenario's own
``[randomisation]`` ranges, ranges given in the entry (``demand_level = [0.8,
1.2]``, ...), or else :data:`DEFAULT_RANGES`. Draw ``i`` fixes every
multiplier at one value drawn from ``SeedSequence(seed)``, so each path of
that scenario sees the same demand level, costs and lead times; it is named
``<base>~<seed>.<i>``.

Every error is a :class:`~scenarios.errors.SpecError` whose field starts with
``FILE:LINE`` and names the entry, e.g.
``batch.toml:7 policies[2]: unknown policy 'sSs'; known: ...``.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from scenarios.distribution import ScenarioDistribution
from scenarios.errors import SpecError
from scenarios.spec import Spec, load

__all__ = ["DEFAULT_RANGES", "Batch", "Job", "ScenarioEntry", "check_policy", "load_batch", "parse_batch"]

#: Ranges for a ``distribution`` entry whose scenario has none (as ``rl.training.DEFAULT_RANGES``).
DEFAULT_RANGES = ScenarioDistribution(demand_level=(0.8, 1.2), demand_cv=(0.8, 1.2),
                                      holding_cost=(0.9, 1.1), shortage_cost=(0.9, 1.1))

_KEYS = ("scenarios", "policies", "seeds", "paths", "periods", "bound")
_DRAW_KEYS = ("distribution", "draws", "seed")


@dataclass(frozen=True)
class ScenarioEntry:
    """One concrete scenario of a batch and where it came from.

    :param label: the name runs are stored under (``spec.name``).
    :param spec: the scenario.
    :param source: the entry as written (a name, a path, ``distribution``).
    :param line: line of the entry in the batch file.
    """

    label: str
    spec: Spec
    source: str
    line: int


@dataclass(frozen=True)
class Job:
    """One run: a policy on a scenario with a seed, and its store key.

    :param key: :func:`hybrid.store.run_key` of the inputs below.
    :param scenario: label of the scenario.
    :param spec: the scenario.
    :param policy: policy text as ``echelon evaluate`` takes it.
    :param seed: seed of the test paths (tuning uses ``train_seed(seed)``).
    :param paths: test paths.
    :param periods: measured periods.
    :param bound: also compute the hindsight bound.
    """

    key: str
    scenario: str
    spec: Spec
    policy: str
    seed: int
    paths: int
    periods: int
    bound: bool = False


@dataclass(frozen=True)
class Batch:
    """A checked batch file.

    :param source: the file (or ``"<string>"``).
    :param scenarios: the concrete scenarios, distribution draws expanded.
    :param policies: policy texts.
    :param seeds: test-path seeds.
    :param paths: test paths per run.
    :param periods: measured periods per run (``None``: each scenario's horizon).
    :param bound: also solve the hindsight bound per path.
    """

    source: str
    scenarios: tuple[ScenarioEntry, ...]
    policies: tuple[str, ...]
    seeds: tuple[int, ...]
    paths: int
    periods: int | None
    bound: bool

    def jobs(self) -> list[Job]:
        """Every (scenario, policy, seed) run, scenario-major, without duplicate keys."""
        from hybrid.store import run_key

        out: dict[str, Job] = {}
        for entry in self.scenarios:
            periods = entry.spec.horizon if self.periods is None else self.periods
            for policy in self.policies:
                for seed in self.seeds:
                    key = run_key(entry.spec.hash, policy, seed, self.paths, periods)
                    out.setdefault(key, Job(key, entry.label, entry.spec, policy, seed, self.paths,
                                            periods, self.bound))
        return list(out.values())


class _Lines:
    """Find the line of a key or a value in the batch file's text (TOML keeps no positions)."""

    def __init__(self, text: str, source: str) -> None:
        self.lines = text.splitlines()
        self.source = source

    def of_key(self, key: str) -> int:
        pattern = re.compile(rf"^\s*{re.escape(key)}\s*=")
        return next((i + 1 for i, line in enumerate(self.lines) if pattern.match(line)), 1)

    def of_value(self, key: str, value: str, occurrence: int = 0) -> int:
        """Line of the ``occurrence``-th quoted ``value`` at or after ``key = ``."""
        start = self.of_key(key)
        quoted = re.compile(r"""(["'])""" + re.escape(value) + r"\1")
        seen = 0
        for i in range(start - 1, len(self.lines)):
            for _ in quoted.finditer(_strip_comment(self.lines[i])):
                if seen == occurrence:
                    return i + 1
                seen += 1
        return start

    def of_draw(self, name: str, occurrence: int = 0) -> int:
        """Line of the ``occurrence``-th ``distribution = "name"``."""
        pattern = re.compile(r"""distribution\s*=\s*(["'])""" + re.escape(name) + r"\1")
        hits = [i + 1 for i, line in enumerate(self.lines) if pattern.search(_strip_comment(line))]
        return hits[occurrence] if occurrence < len(hits) else self.of_key("scenarios")

    def error(self, line: int, where: str, reason: str) -> SpecError:
        return SpecError(f"{self.source}:{line} {where}", reason)


def _strip_comment(line: str) -> str:
    """The line without a trailing ``# comment`` (good enough for batch files: no '#' in names)."""
    return line.split("#", 1)[0]


def _int(lines: _Lines, key: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise lines.error(lines.of_key(key), key, f"must be an integer >= {low}, got {value!r}")
    return value


def _draw(base: Spec, ranges: ScenarioDistribution, seed: int, draws: int) -> list[Spec]:
    """``draws`` scenarios with every multiplier fixed at a value drawn from ``ranges``."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    values = ranges.draw(draws, rng)
    out = []
    for i in range(draws):
        fixed = ScenarioDistribution(**{f.name: (float(values[f.name][i]),) * 2 for f in fields(ranges)})
        out.append(replace(base, name=f"{base.name}~{seed}.{i}", randomisation=fixed))
    return out


def _scenarios(lines: _Lines, value: Any, root: Path) -> list[ScenarioEntry]:
    if not isinstance(value, list) or not value:
        raise lines.error(lines.of_key("scenarios"), "scenarios",
                          f"must be a non-empty array of names, paths or distribution tables, got {value!r}")
    out: list[ScenarioEntry] = []
    counts: dict[Any, int] = {}
    for i, item in enumerate(value):
        where = f"scenarios[{i}]"
        if isinstance(item, str):
            line = lines.of_value("scenarios", item, counts.get(item, 0))
            counts[item] = counts.get(item, 0) + 1
            out.append(ScenarioEntry(*_load(lines, line, where, item, root), item, line))
        elif isinstance(item, dict):
            name = item.get("distribution")
            draw_line = lines.of_draw(name, counts.get(("draw", name), 0)) if isinstance(name, str) \
                else lines.of_key("scenarios")
            counts[("draw", name)] = counts.get(("draw", name), 0) + 1
            out.extend(_distribution(lines, draw_line, where, item, root))
        else:
            raise lines.error(lines.of_key("scenarios"), where,
                              f"must be a name, a path or a distribution table, got {item!r}")
    return out


def _load(lines: _Lines, line: int, where: str, name: str, root: Path) -> tuple[str, Spec]:
    """Load a built-in name or a TOML path (relative to the batch file first)."""
    candidate = root / name
    source = str(candidate) if not Path(name).is_absolute() and candidate.is_file() else name
    try:
        spec = load(source)
    except SpecError as err:
        if err.field == "scenario" and "neither a built-in" in err.reason:
            from scenarios import builtin

            raise lines.error(line, where, f"unknown scenario {name!r}: not a built-in "
                              f"({', '.join(builtin.names())}) nor a TOML file") from None
        raise lines.error(line, where, f"scenario {name!r}: {err}") from None
    return spec.name, spec


def _distribution(lines: _Lines, line: int, where: str, item: dict[str, Any],
                  root: Path) -> list[ScenarioEntry]:
    name = item.get("distribution")
    if not isinstance(name, str):
        raise lines.error(line, where, f"a table entry needs distribution = \"<scenario>\", got {item!r}")
    range_names = {f.name for f in fields(ScenarioDistribution)}
    unknown = sorted(set(item) - set(_DRAW_KEYS) - range_names)
    if unknown:
        raise lines.error(line, f"{where}.{unknown[0]}", "unknown key (allowed: "
                          f"{', '.join((*_DRAW_KEYS, *sorted(range_names)))})")
    draws, seed = item.get("draws", 1), item.get("seed", 0)
    for key, v, low in (("draws", draws, 1), ("seed", seed, 0)):
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise lines.error(line, f"{where}.{key}", f"must be an integer >= {low}, got {v!r}")
    label, base = _load(lines, line, where, name, root)
    given = {k: v for k, v in item.items() if k in range_names}
    try:
        ranges = (ScenarioDistribution.from_dict(given, where) if given
                  else base.randomisation or DEFAULT_RANGES)
    except SpecError as err:
        raise lines.error(line, err.field, err.reason) from None
    source = f"distribution {name} (draws={draws}, seed={seed})"
    return [ScenarioEntry(spec.name, spec, source, line) for spec in _draw(base, ranges, seed, draws)]


class _Untrained(Exception):
    """Raised by the pre-check's training paths: what is left of building this policy is tuning."""


def _untrained() -> Any:
    raise _Untrained


def check_policy(spec: Spec, text: str) -> None:
    """Check a policy text on ``spec`` as evaluating it will, short of tuning or simulating.

    Builds the policy with :func:`scenarios.registry.build_policy`, the call
    :func:`scenarios.evaluate.evaluate_policies` makes: unknown names,
    bad values, a horizon too short for the network's lead times, a missing
    saved agent or one of the wrong kind all fail here. A bare name stops where
    it would start tuning on training paths (its tuning runs in the job).

    :raises SpecError: what building the policy raises.
    """
    from scenarios.registry import build_policy

    try:
        build_policy(spec, text, _untrained)
    except _Untrained:
        pass


def _policies(lines: _Lines, value: Any, scenarios: list[ScenarioEntry]) -> list[str]:
    if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
        raise lines.error(lines.of_key("policies"), "policies",
                          f"must be a non-empty array of policy texts, got {value!r}")
    counts: dict[str, int] = {}
    for i, text in enumerate(value):
        line = lines.of_value("policies", text, counts.get(text, 0))
        counts[text] = counts.get(text, 0) + 1
        where = f"policies[{i}]"
        for entry in scenarios:
            try:
                check_policy(entry.spec, text)
            except SpecError as err:
                reason = err.reason if err.field == "policy" else f"{text!r} on {entry.label}: {err}"
                raise lines.error(line, where, reason) from None
    return list(value)


def parse_batch(text: str, source: str = "<string>", root: str | Path = ".") -> Batch:
    """Check a batch file's text and expand its scenarios; nothing runs.

    Policy names come from :mod:`scenarios.registry`, which knows every layer's.

    :param text: the TOML text.
    :param source: the file name errors start with.
    :param root: directory relative scenario paths are resolved against.
    :raises SpecError: field ``"FILE:LINE entry"`` and the reason, naming the bad value.
    """
    lines = _Lines(text, source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        match = re.search(r"line (\d+)", str(err))
        raise lines.error(int(match.group(1)) if match else 1, "batch", f"not valid TOML: {err}") from None
    unknown = sorted(set(data) - set(_KEYS))
    if unknown:
        raise lines.error(lines.of_key(unknown[0]), unknown[0],
                          f"unknown key (allowed: {', '.join(_KEYS)})")
    for key in ("scenarios", "policies"):
        if key not in data:
            raise lines.error(1, key, "missing: the batch needs scenarios and policies")
    seeds = data.get("seeds", [0])
    if isinstance(seeds, int) and not isinstance(seeds, bool):
        seeds = list(range(_int(lines, "seeds", seeds, 1)))
    if not isinstance(seeds, list) or not seeds or not all(
            isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds):
        raise lines.error(lines.of_key("seeds"), "seeds",
                          f"must be a count or a non-empty array of integers >= 0, got {seeds!r}")
    paths = _int(lines, "paths", data.get("paths", 100), 1)
    periods = data.get("periods")
    if periods is not None:
        periods = _int(lines, "periods", periods, 1)
    bound = data.get("bound", False)
    if not isinstance(bound, bool):
        raise lines.error(lines.of_key("bound"), "bound", f"must be true or false, got {bound!r}")
    scenarios = _scenarios(lines, data["scenarios"], Path(root))
    policies = _policies(lines, data["policies"], scenarios)
    return Batch(source, tuple(scenarios), tuple(policies), tuple(dict.fromkeys(seeds)), paths, periods,
                 bound)


def load_batch(path: str | Path) -> Batch:
    """Read and check a batch file (see :func:`parse_batch`).

    :raises SpecError: unreadable file, or any invalid entry with its line.
    """
    path = Path(path)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as err:
        raise SpecError("batch", f"cannot read {path}: {err}") from None
    return parse_batch(text, source=str(path), root=path.parent)
