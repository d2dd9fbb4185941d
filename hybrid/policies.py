"""The hybrid policies as policy texts: ``hybrid-mpc:path=DIR`` and ``hybrid-anchor:path=DIR``.

:mod:`scenarios.registry` names both factories, so every command and
:func:`scenarios.evaluate_policies` accept them. Both need a saved
agent (``echelon tune --env hybrid-mpc`` / ``--env hybrid-anchor`` or
:func:`hybrid.training.train_hybrid` write one); ``hybrid-mpc`` also takes
``horizon`` and ``mip_gap`` for the deployed planner.
"""

from __future__ import annotations

from typing import Any

from scenarios.errors import SpecError

__all__ = ["hybrid_anchor_from_params", "hybrid_mpc_from_params"]


def _options(name: str, params: dict[str, list[float | str]] | None, allowed: set[str]) -> dict[str, Any]:
    if not params or "path" not in params:
        raise SpecError("policy.path", f"give the saved agent: {name}:path=DIR "
                        f"(echelon tune --env {name} writes one)")
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise SpecError(f"policy.{unknown[0]}", f"{name} takes {', '.join(sorted(allowed))}")
    for key, values in params.items():
        if len(values) != 1:
            raise SpecError(f"policy.{key}", f"needs one value, got {len(values)}")
    return {k: v[0] for k, v in params.items()}


def hybrid_mpc_from_params(spec: Any, params: dict[str, list[float | str]] | None, train: Any) -> Any:
    """Policy factory for ``hybrid-mpc:path=DIR[,horizon=H][,mip_gap=g]``."""
    from hybrid.mpc import load_mpc

    options = _options("hybrid-mpc", params, {"path", "horizon", "mip_gap"})
    path = str(options.pop("path"))
    if "horizon" in options:
        options["horizon"] = int(options["horizon"])
    return load_mpc(path, **options)


def hybrid_anchor_from_params(spec: Any, params: dict[str, list[float | str]] | None, train: Any) -> Any:
    """Policy factory for ``hybrid-anchor:path=DIR``: RL residuals on the MILP static levels."""
    from rl.policy import load

    options = _options("hybrid-anchor", params, {"path"})
    policy = load(str(options["path"]))
    if "milp.optimise_static" not in policy.metadata["anchor"].get("source", ""):
        raise SpecError("policy.path", f"{options['path']!r} is an RL agent on a simulation-tuned anchor, "
                        "not a hybrid-anchor agent; run it as rl:path=...")
    policy.name = "hybrid-anchor"
    return policy

