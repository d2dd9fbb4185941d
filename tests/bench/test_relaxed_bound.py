"""bench/relaxed_bound.py: the single-item DP is exact, so no policy beats it and base-stock comes close."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from scenarios.paths import SamplePaths
from scenarios.processes import DemandProcess, LeadTime, Promotion
from scenarios.registry import build_policy
from scenarios.simulator import simulate
from scenarios.spec import EXTERNAL, SKU, Arc, Demand, Node, Spec

ROOT = Path(__file__).resolve().parents[2]


def _module():
    spec = importlib.util.spec_from_file_location("bench_relaxed_bound", ROOT / "bench" / "relaxed_bound.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _store(fixed: float, promotion: Promotion | None) -> Spec:
    return Spec(name="one-store", timing="order-first", shortage="lost-sales", horizon=30, warmup=0,
                nodes=(Node("store", holding_cost=0.5, initial_inventory=10.0),),
                arcs=(Arc(EXTERNAL, "store", lead_time=LeadTime(kind="fixed", value=1), unit_cost=1.0,
                          fixed_cost=fixed),),
                skus=(SKU("item"),),
                demands=(Demand("store", "item", DemandProcess(kind="negative-binomial", mean=10.0,
                                                               std=18**0.5, promotion=promotion),
                                shortage_cost=6.0),))


def _dp(spec: Spec) -> float:
    proc = spec.demands[0].process
    promo = proc.promotion
    cost, _ = _module().stream_bound(proc.mean * proc.factor(30), proc.mean**2 / (proc.std**2 - proc.mean),
                                     promo.lift if promo else 1.0, promo.probability if promo else 0.0,
                                     0.5, 6.0, 1.0, spec.arcs[0].fixed_cost, 10)
    return cost / 30


def _best(spec: Spec, texts: list[str]) -> tuple[float, float]:
    paths = SamplePaths.draw(spec, 4000, seed=11)
    best = min((simulate(spec, paths, build_policy(spec, t, lambda: None), kpi_flows=False).total_cost.mean(1)
                for t in texts), key=np.mean)
    return float(best.mean()), float(best.std(ddof=1) / np.sqrt(len(best)))


def test_no_base_stock_level_beats_the_dp_and_the_best_comes_close() -> None:
    spec = _store(0.0, None)
    dp = _dp(spec)
    sim, se = _best(spec, [f"base-stock:S={s}" for s in range(14, 34, 2)])
    assert dp <= sim + 3 * se
    assert dp >= 0.95 * sim  # base-stock is near-optimal here: the DP is not loose


def test_with_fixed_costs_and_promotions_no_sS_policy_beats_the_dp() -> None:
    spec = _store(8.0, Promotion(probability=0.1, lift=1.8, duration=2))
    dp = _dp(spec)
    sim, se = _best(spec, [f"sS:s={s};S={s + q}" for s in (10, 14, 18) for q in (8, 16, 24)])
    assert dp <= sim + 3 * se
    assert dp >= 0.85 * sim


def test_the_state_space_guard_refuses_a_cut_short_order() -> None:
    module = _module()
    with pytest.raises(RuntimeError, match="state space"):  # stock that pays to hold: orders to the cap
        module.stream_bound(np.full(5, 1.0), 2.0, 1.0, 0.0, -1.0, 6.0, 0.0, 0.0, 0)
