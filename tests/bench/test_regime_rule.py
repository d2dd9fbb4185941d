"""bench/regime_rule.py: the hand-made rule is an echelon base-stock that reacts only to what it sees."""

from __future__ import annotations

import numpy as np
import regime_rule

from scenarios import builtin
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import EchelonBaseStock
from scenarios.simulator import Simulator, simulate

SPEC = builtin.get("regime-disruption")


def test_without_boosts_the_rule_is_the_echelon_base_stock() -> None:
    paths = SamplePaths.draw(SPEC, 40, periods=60, seed=1)
    rule = regime_rule.RegimeRule(250.0, 40.0, 0.0, 0.0, memory=4, calm_std=4.0)
    fixed = EchelonBaseStock(S=[250.0, 40.0, 40.0, 40.0])
    np.testing.assert_array_equal(simulate(SPEC, paths, rule).total_cost,
                                  simulate(SPEC, paths, fixed).total_cost)


def test_trouble_is_seen_exactly_after_a_disruption_or_a_late_shipment() -> None:
    paths = SamplePaths.draw(SPEC, 64, periods=80, seed=2)
    rule = regime_rule.RegimeRule(250.0, 40.0, 50.0, 0.0, memory=1, calm_std=4.0)
    rule.reset(Network(SPEC), paths.n_paths)
    sim = Simulator(SPEC, paths)
    seen = []
    while not sim.done:
        t = sim.t
        sim.end_period(rule.act(sim.begin_period(), t))
        seen.append(rule.last_sign == t)  # a sign of trouble seen at t
    seen = np.array(seen).T[:, 4:]  # (paths, periods from t = 4)
    # At decision t the rule can know of a disruption in t - 1 (an order left owed) and of a
    # shipment sent in t - 4 .. t - 2 that has not arrived (sent with the troubled lead time 5;
    # the normal one, 2, has it home by t); nothing else is a sign, the hidden state is not.
    lead, disrupted = paths.lead_time[..., 0], paths.disrupted[..., 0]
    late = (lead == 5) & ~disrupted
    T = paths.n_periods
    truth = np.stack([disrupted[:, t - 1] | late[:, t - 4:t - 1].any(1) for t in range(4, T)], axis=1)
    assert not (seen & ~truth).any()  # no sign without an observable cause
    assert seen[truth].mean() > 0.95  # (a sign is missed only when nothing was ordered or shipped)
    assert truth.mean() > 0.1 and (~truth).mean() > 0.5  # both happen on these paths
