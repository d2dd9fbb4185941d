"""The arena: every policy on the same sample paths, compared pairwise against a reference.

:func:`evaluate` is what ``echelon evaluate`` and ``echelon batch`` call. It
takes a scenario by name (or a :class:`~scenarios.spec.Spec`), makes every
policy name of every layer usable (classical, ``rolling-horizon``,
``milp-static``, ``rl:path=...``, ``hybrid-mpc:path=...``,
``hybrid-anchor:path=...``), puts the reference first and runs
:func:`scenarios.evaluate.evaluate` on one set of test paths (common random
numbers). Each result then carries

* KPIs with 95% confidence intervals (``kpis``),
* the paired cost difference against the reference with its 95% CI
  (``difference``) and the share of paths on which it beats the reference
  (``win_rate``),
* with ``bound=True``, its gap to the per-path hindsight bound of
  :func:`milp.hindsight_bound` (``bound_gap``, ``bound_mean``).

>>> from hybrid import evaluate
>>> results = evaluate("serial-3", ["echelon-base-stock:S=6.49,12.03,22.72", "base-stock:S=7,7,7"],
...                    paths=50, periods=40)
>>> results[1].win_rate < 0.5 < results[1].difference.low   # the untuned levels lose
True
"""

from __future__ import annotations

from collections.abc import Sequence

from scenarios.errors import SpecError
from scenarios.evaluate import PolicyResult
from scenarios.policy import Policy
from scenarios.progress import Progress
from scenarios.spec import Spec, load

__all__ = ["evaluate", "register_all"]


def register_all() -> None:
    """Import the MILP, RL and hybrid layers so their policy names are registered."""
    import hybrid.baselines  # rolling-horizon-ss
    import hybrid.policies  # noqa: F401 - hybrid-mpc, hybrid-anchor
    import milp  # noqa: F401 - rolling-horizon, milp-static
    import rl  # noqa: F401 - rl:path=...


def evaluate(scenario: str | Spec, policies: Sequence[str | Policy], *, paths: int = 1000,
             periods: int | None = None, seed: int = 0, train_paths: int = 200,
             reference: str | None = None, bound: bool = False,
             progress: Progress | None = None) -> list[PolicyResult]:
    """Evaluate ``policies`` on the same sample paths; differences are paired against the reference.

    :param scenario: a built-in name, a TOML path or a spec.
    :param policies: policy texts (see :func:`scenarios.policies.build_policy`) or
        :class:`~scenarios.policy.Policy` objects.
    :param paths: test paths.
    :param periods: measured periods per path (default: the scenario's horizon).
    :param seed: seed of the test paths (tuned policies train on other paths).
    :param train_paths: training paths for tuned policies.
    :param reference: the policy text the others are compared with (it is moved
        first); default: the first policy.
    :param bound: also solve the hindsight bound per path and report gaps to it.
    :param progress: told of each step as it goes (:mod:`scenarios.progress`).
    :return: one :class:`~scenarios.evaluate.PolicyResult` per policy, the reference first.
    :raises SpecError: an unknown scenario or policy, bad parameters, or a
        reference that is not among the policies.
    """
    from scenarios.evaluate import evaluate as run_arena

    register_all()
    spec = load(scenario) if isinstance(scenario, str) else scenario
    order = list(policies)
    if reference is not None:
        texts = [p if isinstance(p, str) else None for p in order]
        if reference not in texts:
            raise SpecError("reference", f"{reference!r} is not one of the policies "
                            f"{[t for t in texts if t is not None]}")
        order.insert(0, order.pop(texts.index(reference)))
    bound_fn = None
    if bound:
        from milp import hindsight_bound as bound_fn
    return run_arena(spec, order, paths=paths, periods=periods, seed=seed, train_paths=train_paths,
                     progress=progress, bound=bound_fn)
