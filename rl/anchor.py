"""The anchor: the tuned static policy an agent's residuals are measured from.

An agent in :class:`~rl.envs.TuneEnv` never sets parameters from scratch: it
moves them around an anchor, so a zero action *is* the anchor, and learning
starts from the best static policy rather than from noise. The anchor's mean
cost per period also scales the reward, so an epoch that costs what the
anchor costs on average earns about ``-1``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.paths import SamplePaths
from scenarios.policies import FAMILIES, ParametricPolicy
from scenarios.simulator import simulate
from scenarios.spec import Spec
from scenarios.tuning import TuneResult, tune

__all__ = ["ANCHOR_FAMILIES", "Anchor", "make_anchor"]

#: Policy families an anchor may come from.
ANCHOR_FAMILIES = ("sS", "base-stock", "echelon-base-stock")


@dataclass(frozen=True)
class Anchor:
    """A static policy and its expected cost.

    :param family: ``"sS"``, ``"base-stock"`` or ``"echelon-base-stock"``.
    :param params: one value per node for each of the family's parameters
        (``{"s": (...), "S": (...)}``), in the spec's node order.
    :param cost_per_period: the policy's mean cost per period (warm-up
        included, as episodes include it) on the paths in ``source``.
    :param source: how it was found, e.g. ``"tune(sS) on 64 paths, seed 0"``.
    """

    family: str
    params: dict[str, tuple[float, ...]]
    cost_per_period: float
    source: str = ""

    def __post_init__(self) -> None:
        if self.family not in ANCHOR_FAMILIES:
            raise SpecError("anchor.family", f"must be one of {', '.join(ANCHOR_FAMILIES)}, "
                            f"got {self.family!r}")
        if not np.isfinite(self.cost_per_period):
            raise SpecError("anchor.cost_per_period", f"must be finite, got {self.cost_per_period}")
        object.__setattr__(self, "params", {k: tuple(float(x) for x in v) for k, v in self.params.items()})

    def policy(self) -> ParametricPolicy:
        """The anchor as a classical policy (what ``simulate`` runs for comparison)."""
        return FAMILIES[self.family](**{k: np.array(v) for k, v in self.params.items()})

    def levels(self, network: Network) -> dict[str, np.ndarray]:
        """Each parameter per node and SKU, ``(nodes, skus)``, spread over SKUs as the policy does.

        Read through :meth:`ParametricPolicy.level`, so the values are exactly
        those the anchor policy orders with.
        """
        policy = self.policy()
        policy.reset(network, 1)
        return {k: np.array(np.broadcast_to(policy.level(k, 0), (network.n_nodes, network.n_skus)))
                for k in self.params}

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (model metadata)."""
        return {"family": self.family, "params": {k: list(v) for k, v in self.params.items()},
                "cost_per_period": self.cost_per_period, "source": self.source}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Anchor:
        """Inverse of :meth:`to_dict`."""
        return cls(data["family"], {k: tuple(v) for k, v in data["params"].items()},
                   float(data["cost_per_period"]), data.get("source", ""))


def make_anchor(spec: Spec, family: str = "sS", *, policy: ParametricPolicy | TuneResult | None = None,
                paths: int = 64, periods: int | None = None, seed: int = 0,
                max_iterations: int = 60) -> Anchor:
    """Tune (or take) a static policy and measure its mean cost per period.

    Deterministic for given arguments, and cached in-process (every environment
    of a ``DummyVecEnv`` asks for the same anchor).

    :param spec: the scenario (with its ``randomisation``, if any: the anchor is
        tuned across the distribution).
    :param family: ``"sS"``, ``"base-stock"`` or ``"echelon-base-stock"``.
    :param policy: use these parameters instead of tuning (a policy of ``family``
        or of ``base-stock``/``echelon-base-stock`` when ``family`` is the same,
        or a :class:`~scenarios.tuning.TuneResult`).
    :param paths: training paths for tuning and for the cost estimate.
    :param periods: periods per training path (default ``spec.horizon``).
    :param seed: seed of the training paths.
    :param max_iterations: cap on compass-search iterations.
    :raises SpecError: an unknown family or a policy of another family.
    """
    if family not in ANCHOR_FAMILIES:
        raise SpecError("anchor.family", f"must be one of {', '.join(ANCHOR_FAMILIES)}, got {family!r}")
    given = None
    if policy is not None:
        name = policy.family if isinstance(policy, TuneResult) else policy.name
        params = policy.params
        if name == "base-stock" and family == "sS":  # (s, S) with s = S is base-stock exactly
            params = {"s": params["S"], "S": params["S"]}
        elif name != family:
            raise SpecError("anchor", f"a {family} anchor cannot be built from a {name} policy")
        for k, v in params.items():
            if np.shape(v) != (len(spec.nodes),):
                raise SpecError(f"anchor.{k}", f"needs one value per node ({len(spec.nodes)}), "
                                f"got shape {np.shape(v)}")
        given = tuple((k, tuple(float(x) for x in v)) for k, v in sorted(params.items()))
    return _make_anchor(spec, family, given, paths, periods, seed, max_iterations)


@lru_cache(maxsize=32)
def _make_anchor(spec: Spec, family: str, given: tuple | None, paths: int, periods: int | None,
                 seed: int, max_iterations: int) -> Anchor:
    train = SamplePaths.draw(spec, paths, periods, seed=seed)
    if given is None:
        if FAMILIES[family].needs_tree:
            spec.require_tree(family)
        params = tune(spec, family, train, max_iterations=max_iterations).params
        source = f"tune({family}) on {paths} paths x {train.n_periods} periods, seed {seed}"
    else:
        params = dict(given)
        source = f"given; cost on {paths} paths x {train.n_periods} periods, seed {seed}"
    anchor = Anchor(family, params, 0.0, source)
    run = simulate(spec, train, anchor.policy(), kpi_flows=False)
    return Anchor(family, anchor.params, float(run.total_cost.mean()), source)
