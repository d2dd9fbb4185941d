"""The compiled kernel equals the numpy reference, period by period, on every state array and cost part.

Two ways into the kernel are checked against ``ECHELON_BACKEND=numpy``:

* the per-period hook (``begin_period``/``end_period``, the policy acting in Python),
  the two simulators in lockstep: after every half period the state arrays the
  policy sees, the orders, every cost part and every KPI flow must agree;
* a whole run of a classical policy in one compiled call (``simulate``), compared
  on every cost part, every flow and the final state.

"Agree" is 1e-12 relative to the size of the array compared (the kernel sums in
its own order, so the last bits may differ; everything else is the same
arithmetic). Cases: every built-in, the random specs and policies of the
conservation test (``tests/scenarios/test_conservation.py``), and OR-Gym timing.
"""

from __future__ import annotations

import copy
import os
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from scenarios import builtin
from scenarios.kernel import backend
from scenarios.paths import SamplePaths
from scenarios.policies import SQ, SS, BaseStock, CappedBaseStock, EchelonBaseStock, make_policy
from scenarios.simulator import Simulator, simulate
from scenarios.tuning import initial_levels
from tests.scenarios.test_conservation import RandomOrders, policies, specs
from tests.scenarios.test_orgym_timing import FixedOrders, small

RTOL = 1e-12
STATE = ("on_hand", "pipeline", "in_transit", "owed", "backlog", "goodwill", "last_demand")


@contextmanager
def using(name: str):
    """Simulators built inside get backend ``name`` (``ECHELON_BACKEND``)."""
    before = os.environ.get(backend.VARIABLE)
    os.environ[backend.VARIABLE] = name
    try:
        yield
    finally:
        if before is None:
            del os.environ[backend.VARIABLE]
        else:
            os.environ[backend.VARIABLE] = before


def pair(spec, paths, **kw) -> tuple[Simulator, Simulator]:
    with using("numpy"):
        ref = Simulator(spec, paths, **kw)
    with using("kernel"):
        ker = Simulator(spec, paths, **kw)
    assert (ref.backend, ker.backend) == ("numpy", "kernel"), ker.backend_reason
    return ref, ker


def close(what: str, ref: np.ndarray, got: np.ndarray) -> None:
    scale = float(np.abs(ref).max(initial=0.0))
    np.testing.assert_allclose(got, ref, rtol=RTOL, atol=RTOL * max(scale, 1.0), err_msg=what)


def same_state(ref: Simulator, ker: Simulator, when: str) -> None:
    for name in STATE:
        close(f"{when}: state.{name}", getattr(ref.state, name), getattr(ker.state, name))
    for name in ref.costs:
        close(f"{when}: cost {name}", ref.costs[name], ker.costs[name])
    for name in ref.flows:
        close(f"{when}: flow {name}", ref.flows[name], ker.flows[name])


def lockstep(spec, paths, policy, kpi_flows: bool = True) -> None:
    """Both backends, one period at a time, ``policy`` (a fresh copy each) acting in Python."""
    ref, ker = pair(spec, paths, kpi_flows=kpi_flows)
    mine, theirs = copy.deepcopy(policy), copy.deepcopy(policy)
    mine.reset(ref.network, paths.n_paths)
    theirs.reset(ker.network, paths.n_paths)
    while not ref.done:
        t = ref.t
        seen_ref, seen_ker = ref.begin_period(), ker.begin_period()
        same_state(ref, ker, f"period {t}, decision point")
        close(f"period {t}: inventory position", seen_ref.inventory_position, seen_ker.inventory_position)
        orders_ref, orders_ker = mine.act(seen_ref, t), theirs.act(seen_ker, t)
        close(f"period {t}: orders", orders_ref, orders_ker)
        ref.end_period(orders_ref)
        ker.end_period(orders_ker)
        same_state(ref, ker, f"period {t}, end")
    assert ker.done


def whole_run(spec, paths, policy, kpi_flows: bool = True) -> None:
    """A classical policy: the numpy loop against one compiled call; costs, flows and final state."""
    ref, ker = pair(spec, paths, kpi_flows=kpi_flows)
    mine, theirs = copy.deepcopy(policy), copy.deepcopy(policy)
    mine.reset(ref.network, paths.n_paths)
    theirs.reset(ker.network, paths.n_paths)
    while not ref.done:
        ref.step(mine)
    assert ker.run_compiled(theirs, ker.n_periods), "the kernel did not take the classical policy"
    assert ker.done
    same_state(ref, ker, "after the run")


def levels(spec) -> np.ndarray:
    return np.round(initial_levels(spec)["local"], 1)


@pytest.mark.parametrize("name", builtin.names())
def test_builtins_agree_period_by_period(name: str) -> None:
    spec = builtin.get(name)
    paths = SamplePaths.draw(spec, 5, periods=min(spec.horizon, 30), seed=3)
    S = levels(spec)
    lockstep(spec, paths, BaseStock(S=S))
    for policy in (BaseStock(S=S), SS(s=0.6 * S, S=S), SQ(s=0.5 * S, Q=np.maximum(0.4 * S, 1.0)),
                   CappedBaseStock(S=S, r=0.3 * S + 1)):
        whole_run(spec, paths, policy)
    if spec.is_tree:
        whole_run(spec, paths, EchelonBaseStock(S=initial_levels(spec)["echelon"]))


@pytest.mark.parametrize("mode", ["backlog", "lost-sales"])
def test_orgym_timing_hand_case(mode: str) -> None:
    spec = small(mode)
    paths = SamplePaths.draw(spec, 2, seed=0)
    paths = replace(paths, demand=np.broadcast_to(np.array([4.0, 6.0, 2.0])[None, :, None],
                                                  paths.demand.shape).copy())
    lockstep(spec, paths, FixedOrders())
    run = simulate(spec, paths, FixedOrders())
    expected = {"backlog": [-4.1, -7.8, 7.0], "lost-sales": [-4.1, -7.5, 7.6]}[mode]
    np.testing.assert_allclose(run.total_cost, [expected] * 2, atol=1e-12)  # by hand, test_orgym_timing


@pytest.mark.parametrize("name", ["orgym-inv-v0", "orgym-inv-v1"])
def test_orgym_builtins_on_many_paths(name: str) -> None:
    spec = builtin.get(name)
    paths = SamplePaths.draw(spec, 64, seed=11)
    whole_run(spec, paths, BaseStock(S=levels(spec)))
    whole_run(spec, paths, CappedBaseStock(S=levels(spec), r=np.full(len(spec.nodes), 15.0)), kpi_flows=False)


@pytest.mark.parametrize("name", ["orgym-inv-v0", "orgym-inv-v1"])
@pytest.mark.parametrize("capped", [True, False])
def test_orgym_rule_compiled_equals_its_python_form(name: str, capped: bool) -> None:
    bench = str(Path(__file__).resolve().parents[2] / "bench")
    if bench not in sys.path:  # as tests/bench/conftest.py: the bench scripts' `import common`
        sys.path.insert(0, bench)
    from bench.peers_orgym import LEVEL_SETS, OrGymBaseStock

    spec = builtin.get(name)
    paths = SamplePaths.draw(spec, 2200, seed=2)  # 66000 path-periods: the parallel run
    for z in LEVEL_SETS[:3]:
        whole_run(spec, paths, OrGymBaseStock(z, capped))


# As in the conservation test: no shrinking (the failing spec and policy are printed in full).
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
          phases=(Phase.explicit, Phase.reuse, Phase.generate))
@given(data=st.data(), seed=st.integers(0, 2**31), kpi_flows=st.booleans(),
       timing=st.sampled_from(["order-first", "demand-first", "orgym"]))
def test_random_specs_agree(data, seed: int, kpi_flows: bool, timing: str) -> None:
    spec = replace(data.draw(specs(), label="spec"), timing=timing)
    policy = data.draw(policies(spec), label="policy")
    paths = SamplePaths.draw(spec, paths=3, periods=12, seed=seed, warmup=0)
    lockstep(spec, paths, policy, kpi_flows)
    if not isinstance(policy, RandomOrders):
        whole_run(spec, paths, policy, kpi_flows)


def test_per_path_and_per_period_parameters() -> None:
    # The tuner's form: levels (paths, nodes, skus), one candidate per path; and levels by period.
    spec = builtin.get("divergent-1w3r")
    paths = SamplePaths.draw(spec, 6, periods=20, seed=5)
    net_levels = levels(spec)
    rng = np.random.default_rng(0)
    per_path = net_levels[None, :, None] * rng.uniform(0.5, 1.5, (6, len(net_levels), 1))
    whole_run(spec, paths, BaseStock(S=per_path))
    by_period = net_levels[None] * rng.uniform(0.5, 1.5, (8, len(net_levels)))
    whole_run(spec, paths, SS(by_period=True, s=0.5 * by_period, S=by_period))


def test_simulate_uses_the_kernel_for_classical_policies_and_falls_back_visibly() -> None:
    spec = builtin.get("serial-3")
    paths = SamplePaths.draw(spec, 4, periods=10, seed=0)
    with using("auto"):
        assert Simulator(spec, paths).backend == "kernel"
        recorded = Simulator(spec, paths, record=True)
        assert recorded.backend == "numpy" and "record=True" in recorded.backend_reason
        large = Simulator(spec, SamplePaths.draw(spec, 400, periods=300, seed=0))
        assert large.backend == "numpy" and "path-periods" in large.backend_reason
        policy = make_policy(spec, "base-stock", {"S": [5.0, 5.0, 5.0]})
        kernel_run = simulate(spec, paths, policy)
        traced = simulate(spec, paths, policy, record=True)
    close("total cost, kernel vs traced numpy", traced.total_cost, kernel_run.total_cost)
    with using("numpy"):
        forced = Simulator(spec, paths)
        assert forced.backend == "numpy" and backend.VARIABLE in forced.backend_reason
    with using("fast"), pytest.raises(ValueError, match=backend.VARIABLE):
        Simulator(spec, paths)


def test_a_kept_state_array_is_not_changed_by_later_periods() -> None:
    # The numpy step assigns new owed/backlog/goodwill/last_demand arrays each period; a policy that
    # keeps last period's must find it unchanged under the kernel too.
    spec = builtin.get("serial-3")
    paths = SamplePaths.draw(spec, 2, periods=4, seed=0)
    with using("kernel"):
        sim = Simulator(spec, paths)
    state = sim.begin_period()
    sim.end_period(np.full((2, 3, 1), 4.0))
    state = sim.begin_period()
    kept = {name: getattr(state, name) for name in ("owed", "backlog", "last_demand")}
    copies = {name: v.copy() for name, v in kept.items()}
    sim.end_period(np.full((2, 3, 1), 9.0))
    sim.begin_period()
    for name, v in kept.items():
        np.testing.assert_array_equal(v, copies[name], err_msg=name)


def test_bad_orders_are_refused_as_by_the_reference() -> None:
    spec = builtin.get("serial-3")
    paths = SamplePaths.draw(spec, 2, periods=4, seed=0)
    with using("kernel"):
        sim = Simulator(spec, paths)
    sim.begin_period()
    with pytest.raises(ValueError, match="shaped"):
        sim.end_period(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        sim.end_period(np.full((2, 3, 1), np.nan))


def test_first_slow_call_prints_a_compiling_note(monkeypatch, capsys) -> None:
    import time

    monkeypatch.setattr(backend, "_NOTICE_AFTER", 0.01)
    monkeypatch.setattr(backend, "_warm", set())
    monkeypatch.setattr(backend, "_noticed", [])
    assert backend._call("slow", lambda x: time.sleep(0.2) or x, 7) == 7
    assert "compiling the simulation kernel" in capsys.readouterr().err
    backend._call("slow", lambda: time.sleep(0.2))  # compiled now: no note the second time
    assert capsys.readouterr().err == ""
