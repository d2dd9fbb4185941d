"""What the environments rely on from ``scenarios.simulator.Simulator``.

The environments stop the period loop at each decision point and run one
sample path per environment; the VecEnvs run all of them as one batch. Both
are only equal if the two halves of a period reproduce ``simulate`` exactly
and if a path's numbers do not depend on the other paths of its batch (up to
the last bits: vectorised and BLAS kernels may round differently for another
batch size on another CPU).
"""

from __future__ import annotations

import numpy as np
import pytest

from scenarios import builtin
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import SS
from scenarios.simulator import Simulator, simulate
from scenarios.tuning import initial_levels


def policy_for(spec) -> SS:
    level = initial_levels(spec)["local"]
    return SS(s=0.8 * level, S=1.1 * level)


@pytest.mark.parametrize("name", builtin.names())
def test_period_halves_reproduce_simulate(name: str) -> None:
    spec = builtin.get(name)
    paths = SamplePaths.draw(spec, 4, periods=24, seed=11)
    policy = policy_for(spec)
    expected = simulate(spec, paths, policy)
    net = Network(spec)
    policy.reset(net, paths.n_paths)
    sim = Simulator(spec, paths, net)
    while not sim.done:
        state = sim.begin_period()
        sim.end_period(policy.act(state, sim.t))
    np.testing.assert_array_equal(sim.total_cost(), expected.total_cost)
    np.testing.assert_array_equal(sim.total_cost(4, 8), expected.total_cost[:, 4:8])


@pytest.mark.parametrize("name", builtin.names())
def test_a_path_does_not_depend_on_its_batch(name: str) -> None:
    spec = builtin.get(name)
    paths = SamplePaths.draw(spec, 64, periods=20, seed=3)
    policy = policy_for(spec)
    batch = simulate(spec, paths, policy).total_cost
    for i in (0, 17, 63):
        alone = simulate(spec, paths.subset(slice(i, i + 1)), policy).total_cost
        # one path or 64: BLAS/SIMD kernels may round the last bit differently per batch size and CPU
        np.testing.assert_allclose(alone[0], batch[i], rtol=1e-12, atol=1e-9)
