"""The memory checks: runs of the usual sizes pass, runaway sizes are refused naming the field."""

from __future__ import annotations

import pytest

from scenarios import budget, builtin
from scenarios.errors import SpecError


def test_usual_runs_fit_in_two_gigabytes(monkeypatch) -> None:
    monkeypatch.setenv(budget.LIMIT_VARIABLE, "2G")
    for name in builtin.names():
        spec = builtin.get(name)
        budget.check_sample_paths(spec, 1000, spec.horizon, spec.warmup)
        budget.check_trace(spec, 1, spec.horizon + spec.warmup)
        budget.check_milp(spec, 26)


@pytest.mark.parametrize(("args", "field"), [((2_000_000, 1000, 20), "paths × periods"),
                                             ((5, 10, 100_000_000), "warmup")])
def test_runaway_sample_paths_name_the_field(monkeypatch, args, field) -> None:
    monkeypatch.setenv(budget.LIMIT_VARIABLE, "2G")
    with pytest.raises(SpecError) as info:
        budget.check_sample_paths(builtin.get("serial-3"), *args)
    assert info.value.field == field and "GB" in info.value.reason and "2 GB" in info.value.reason


def test_zero_turns_the_checks_off_and_a_bad_value_is_named(monkeypatch) -> None:
    monkeypatch.setenv(budget.LIMIT_VARIABLE, "0")
    budget.check_sample_paths(builtin.get("serial-3"), 10**8, 10**5, 0)
    monkeypatch.setenv(budget.LIMIT_VARIABLE, "lots")
    with pytest.raises(SpecError, match=budget.LIMIT_VARIABLE):
        budget.memory_limit()


def test_the_default_limit_is_half_the_available_memory(monkeypatch) -> None:
    # The machine's own sizes are stubbed, so the rule is checked on any system (one that reports
    # no memory size included) and the numbers are exact.
    monkeypatch.delenv(budget.LIMIT_VARIABLE, raising=False)
    monkeypatch.setattr(budget, "_address_space", lambda: None)
    monkeypatch.setattr(budget, "_available", lambda: 8e9)
    limit, how = budget.memory_limit()
    assert limit == 4e9 and budget.LIMIT_VARIABLE in how
    monkeypatch.setattr(budget, "_address_space", lambda: 2e9)  # ulimit -v below what is free
    assert budget.memory_limit()[0] == 1e9
    monkeypatch.setattr(budget, "_available", lambda: None)
    assert budget.memory_limit()[0] == 1e9
    monkeypatch.setattr(budget, "_address_space", lambda: None)
    assert budget.memory_limit() == (None, "")  # nothing known: no limit, never a false refusal
