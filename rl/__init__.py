"""Learning: Gymnasium environments over the simulator, batched SB3 VecEnvs, training, trained policies.

>>> import rl
>>> env = rl.TuneEnv("lost-sales-poisson", periods=20, anchor_paths=8)
>>> obs, info = env.reset(seed=0)
>>> obs.shape, env.action_space.shape
((12,), (2,))

Names load lazily, so ``import rl`` does not import torch.
:func:`rl_from_params` builds the policy family ``rl`` (``rl:path=DIR``) that
:mod:`scenarios.registry` names.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from scenarios.errors import SpecError

if TYPE_CHECKING:
    from rl.actions import OrderMap, ResidualMap
    from rl.anchor import Anchor, make_anchor
    from rl.envs import DirectOrderEnv, TuneEnv
    from rl.policy import AgentPolicy, load
    from rl.training import TrainConfig, TrainResult, train
    from rl.vec_env import BatchedDirectOrderEnv, BatchedTuneEnv, BatchedVecEnv

__all__ = [
    "AgentPolicy", "Anchor", "BatchedDirectOrderEnv", "BatchedTuneEnv", "BatchedVecEnv", "DirectOrderEnv",
    "OrderMap", "ResidualMap", "TrainConfig", "TrainResult", "TuneEnv", "load", "make_anchor",
    "rl_from_params", "train",
]

_HOME = {
    "OrderMap": "rl.actions", "ResidualMap": "rl.actions", "Anchor": "rl.anchor", "make_anchor": "rl.anchor",
    "DirectOrderEnv": "rl.envs", "TuneEnv": "rl.envs", "AgentPolicy": "rl.policy", "load": "rl.policy",
    "TrainConfig": "rl.training", "TrainResult": "rl.training", "train": "rl.training",
    "BatchedDirectOrderEnv": "rl.vec_env", "BatchedTuneEnv": "rl.vec_env", "BatchedVecEnv": "rl.vec_env",
}


def __getattr__(name: str) -> Any:
    if name in _HOME:
        return getattr(import_module(_HOME[name]), name)
    raise AttributeError(f"module 'rl' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])


def rl_from_params(spec: Any, params: dict[str, list[float | str]] | None, train: Any) -> Any:
    """Policy factory for ``rl:path=DIR``: a saved agent (see :func:`rl.policy.load`)."""
    if not params or "path" not in params:
        raise SpecError("policy.path", "give the saved agent: rl:path=DIR (the directory rl.train wrote)")
    unknown = sorted(set(params) - {"path"})
    if unknown:
        raise SpecError(f"policy.{unknown[0]}", "rl takes one parameter: path")
    if len(params["path"]) != 1:
        raise SpecError("policy.path", f"needs one path, got {len(params['path'])}")
    from rl.policy import load

    return load(str(params["path"][0]))

