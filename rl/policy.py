"""A trained agent as a :class:`~scenarios.policy.Policy`: run it in ``simulate`` and ``evaluate``.

:class:`AgentPolicy` rebuilds the training task from the saved metadata (the
training spec, the anchor, the environment options) and runs, inside the
simulator's period loop, exactly what the environment ran: the same
:class:`~rl.observation.Observer` fed the State every period, the same
observation normalisation, the same action mapping. With ``deterministic=True``
it plays the mean action. A model only runs on a scenario of the same shape
(nodes, SKUs, arcs, demand streams, shortage mode; for a direct-order agent
also the longest lead time); demand levels, lead times and costs may differ,
which is how out-of-distribution tests run.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rl.anchor import Anchor
from rl.artifacts import read_metadata
from rl.tasks import DirectOrderTask, Task, TuneTask
from scenarios.errors import SpecError
from scenarios.network import Network
from scenarios.simulator import State
from scenarios.spec import Spec

__all__ = ["ALGORITHMS", "AgentPolicy", "algorithm", "load", "load_model"]

#: Algorithm names and their Stable-Baselines3 classes.
ALGORITHMS = {"ppo": "PPO", "sac": "SAC", "a2c": "A2C"}


def algorithm(name: str) -> type:
    """The SB3 class of ``name`` (``"ppo"``, ``"sac"`` or ``"a2c"``).

    :raises SpecError: an unknown name.
    """
    if name not in ALGORITHMS:
        raise SpecError("algo", f"must be one of {', '.join(ALGORITHMS)}, got {name!r}")
    import stable_baselines3

    return getattr(stable_baselines3, ALGORITHMS[name])


def _shape(spec: Spec, kind: str) -> dict[str, Any]:
    out = {"nodes": spec.node_ids, "skus": spec.sku_ids,
           "arcs": [f"{a.supplier}->{a.customer}" for a in spec.arcs],
           "demand streams": [f"{d.node}/{d.sku}" for d in spec.demands], "shortage": spec.shortage}
    if kind == "direct":
        out["longest lead time"] = max((a.lead_time.max_value for a in spec.arcs), default=0)
    return out


def make_task(metadata: dict[str, Any]) -> Task:
    """The training task described by ``metadata`` (no tuning: the anchor is saved)."""
    spec = Spec.from_dict(metadata["scenario"]["spec"])
    anchor = Anchor.from_dict(metadata["anchor"])
    cls = TuneTask if metadata["env"] == "tune" else DirectOrderTask
    return cls(spec, anchor=anchor, **metadata["env_options"])


class AgentPolicy:
    """A trained SB3 model acting through the environment's observation and action maps.

    :param model: the SB3 model (``predict`` is used).
    :param metadata: the agent's metadata (see :mod:`rl.artifacts`).
    :param normalisation: observation statistics the model was trained with
        (``mean``, ``var``, ``epsilon``, ``clip_obs``), or ``None``.
    :param deterministic: play the mean action (else sample, from SB3's global seed).
    :param label: shown by :meth:`describe` (e.g. the model path).
    """

    name = "rl"

    def __init__(self, model: Any, metadata: dict[str, Any], *, normalisation: dict[str, Any] | None = None,
                 deterministic: bool = True, label: str = "") -> None:
        self.model, self.metadata, self.deterministic, self.label = model, metadata, deterministic, label
        self.kind = metadata["env"]
        self.task = make_task(metadata)
        size = self.task.observation_space.shape
        if tuple(model.observation_space.shape) != size or \
                tuple(model.action_space.shape) != self.task.action_space.shape:
            raise SpecError("policy.path", f"model spaces {model.observation_space.shape} -> "
                            f"{model.action_space.shape} do not match its metadata "
                            f"{size} -> {self.task.action_space.shape}")
        norm = normalisation
        self._norm = None if norm is None else (np.asarray(norm["mean"]), np.asarray(norm["var"]),
                                                float(norm["epsilon"]), float(norm["clip_obs"]))

    def describe(self) -> dict[str, Any]:
        """What the agent is, for result tables."""
        return {"model": self.label, "algo": self.metadata["algo"], "env": self.kind,
                "anchor": self.metadata["anchor"]["params"]}

    def reset(self, network: Network, n_paths: int) -> None:
        """Check the scenario has the training scenario's shape; start the observation history.

        :raises SpecError: the shapes differ (names what differs).
        """
        trained, given = _shape(self.task.spec, self.kind), _shape(network.spec, self.kind)
        for key, value in trained.items():
            if given[key] != value:
                raise SpecError("policy.path", f"the agent was trained on {self.task.spec.name!r} whose "
                                f"{key} are {value}; {network.spec.name!r} has {given[key]}")
        self.task.observer.reset(n_paths)
        if self.kind == "tune":
            self._policy = self.task.residuals.policy()
            self._policy.reset(network, n_paths)
            self._levels = self.task.residuals.zero(n_paths)
            self._policy.set_levels(self._levels)

    def _decide(self, obs: np.ndarray) -> np.ndarray:
        if self._norm is not None:
            mean, var, eps, clip = self._norm
            obs = np.clip((obs - mean) / np.sqrt(var + eps), -clip, clip).astype(np.float32)
        action, _ = self.model.predict(obs, deterministic=self.deterministic)
        return np.asarray(action, dtype=float)

    def act(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)``; a tuning agent picks new levels every ``epoch`` periods."""
        observer = self.task.observer
        observer.record(state)
        if self.kind == "direct":
            return self.task.orders(self._decide(observer.observe(state, t)))
        if t % self.task.epoch == 0:
            self._levels = self.task.residuals(self._decide(observer.observe(state, t, self._levels)))
            self._policy.set_levels(self._levels)
        return self._policy.act(state, t)


def load_model(algo: str, path: Path) -> Any:
    """The SB3 model saved at ``path`` by algorithm ``algo``, on the CPU.

    :raises SpecError: an unknown algorithm, or a file SB3 cannot read (empty,
        truncated, not an SB3 model); the message names the file.
    """
    cls = algorithm(algo)
    try:
        return cls.load(str(path), device="cpu")
    except (ValueError, KeyError, EOFError, OSError, RuntimeError, zipfile.BadZipFile, pickle.UnpicklingError,
            AssertionError) as err:  # SB3 asserts on what it finds in the file
        reason = (str(err).splitlines() or [""])[0].removeprefix("Error: ")
        raise SpecError("policy.path", f"cannot load {path} as a {ALGORITHMS[algo]} model "
                        f"({type(err).__name__}: {reason})") from None


def load(path: str | Path, *, deterministic: bool = True) -> AgentPolicy:
    """Load a saved agent as a :class:`~scenarios.policy.Policy`.

    :param path: the directory ``rl.train`` wrote, or its ``model.zip``.
    :param deterministic: play the mean action.
    :raises SpecError: not a saved agent, a hybrid agent, or a damaged model file.
    """
    metadata, model_path = read_metadata(path)
    if metadata["env"] not in ("tune", "direct"):
        hybrid = f"hybrid-{metadata['env']}"
        raise SpecError("policy.path", f"{str(path)!r} holds a {hybrid} agent (env {metadata['env']!r}); "
                        f"run it as {hybrid}:path=...")
    model = load_model(metadata["algo"], model_path)
    normalisation = metadata["observation"]["normalisation"].get(model_path.name)
    return AgentPolicy(model, metadata, normalisation=normalisation, deterministic=deterministic,
                       label=str(path))
