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
    """The training task of an ``rl`` agent described by ``metadata`` (no tuning: the anchor is saved)."""
    spec = Spec.from_dict(metadata["scenario"]["spec"])
    anchor = Anchor.from_dict(metadata["anchor"])
    cls = TuneTask if metadata["env"] == "tune" else DirectOrderTask
    return cls(spec, anchor=anchor, **metadata["env_options"])


class AgentPolicy:
    """A trained SB3 model acting through its task's observation and action maps: the base of every agent.

    It holds what a saved agent is (model, metadata, observation normalisation)
    and acts as the environment did: every period it feeds the State to the
    task's :class:`~rl.observation.Observer`; at the start of each step (every
    ``periods_per_step`` periods) it observes, normalises, predicts and hands the
    action to :meth:`Task.apply <rl.tasks.Task.apply>`; then it orders what
    :meth:`Task.orders_at <rl.tasks.Task.orders_at>` says. This class runs the
    ``rl`` agents (tune and direct) and the ``hybrid-anchor`` ones; :class:`hybrid.mpc.HybridMPCPolicy`
    subclasses it (its task, the planner's, is rebuilt on the evaluated scenario).

    :param model: the SB3 model (``predict`` is used).
    :param metadata: the agent's metadata (see :mod:`rl.artifacts`).
    :param normalisation: observation statistics the model was trained with
        (``mean``, ``var``, ``epsilon``, ``clip_obs``), or ``None``.
    :param deterministic: play the mean action (else sample, from SB3's global seed).
    :param label: shown by :meth:`describe` (e.g. the model path).
    """

    name = "rl"
    #: The metadata ``env`` kinds this class runs.
    kinds: tuple[str, ...] = ("tune", "direct")
    #: What the evaluated scenario must share with the training one (see :func:`_shape`).
    shape_keys: tuple[str, ...] = ("nodes", "skus", "arcs", "demand streams", "shortage", "longest lead time")
    #: Build the task on the evaluated scenario at every :meth:`reset` (else once, on the training one).
    rebuild = False

    def __init__(self, model: Any, metadata: dict[str, Any], *, normalisation: dict[str, Any] | None = None,
                 deterministic: bool = True, label: str = "") -> None:
        self.model, self.metadata, self.deterministic, self.label = model, metadata, deterministic, label
        self.kind = metadata["env"]
        self.spec = Spec.from_dict(metadata["scenario"]["spec"])
        self.anchor = Anchor.from_dict(metadata["anchor"])
        norm = normalisation
        self._norm = None if norm is None else (np.asarray(norm["mean"]), np.asarray(norm["var"]),
                                                float(norm["epsilon"]), float(norm["clip_obs"]))
        self.task = self.make_task(self.spec)
        self._check_spaces(self.spec.name)

    def make_task(self, spec: Spec) -> Task:
        """The task the agent acts through on ``spec`` (here the training task, from the metadata)."""
        return make_task(self.metadata)

    def _check_spaces(self, scenario: str) -> None:
        size, actions = self.task.observation_space.shape, self.task.action_space.shape
        model = self.model
        if tuple(model.observation_space.shape) != size or tuple(model.action_space.shape) != actions:
            raise SpecError("policy.path", f"model spaces {self.model.observation_space.shape} -> "
                            f"{self.model.action_space.shape} do not match its task on {scenario!r}: "
                            f"{size} -> {actions}")

    def describe(self) -> dict[str, Any]:
        """What the agent is, for result tables."""
        return {"model": self.label, "algo": self.metadata["algo"], "env": self.kind,
                "anchor": self.metadata["anchor"]["params"]}

    def reset(self, network: Network, n_paths: int) -> None:
        """Check the scenario has the training scenario's shape; start the task and the observation history.

        :raises SpecError: the shapes differ (names what differs).
        """
        trained, given = _shape(self.spec, self.kind), _shape(network.spec, self.kind)
        for key in self.shape_keys:
            if key in trained and given[key] != trained[key]:
                raise SpecError("policy.path", f"the agent was trained on {self.spec.name!r} whose "
                                f"{key} are {trained[key]}; {network.spec.name!r} has {given[key]}")
        if self.rebuild:
            self.task = self.make_task(network.spec)
            self._check_spaces(network.spec.name)
        self.task.observer.reset(n_paths)
        self.task.begin(n_paths, network)

    def decide(self, obs: np.ndarray) -> np.ndarray:
        """The model's action for observations ``(paths, size)``, normalised as in training."""
        if self._norm is not None:
            mean, var, eps, clip = self._norm
            obs = np.clip((obs - mean) / np.sqrt(var + eps), -clip, clip).astype(np.float32)
        action, _ = self.model.predict(obs, deterministic=self.deterministic)
        return np.asarray(action, dtype=float)

    def act(self, state: State, t: int) -> np.ndarray:
        """Orders ``(paths, arcs, skus)``; a new action every ``periods_per_step`` periods."""
        task = self.task
        task.observer.record(state)
        if t % task.periods_per_step == 0:
            task.apply(self.decide(task.observer.observe(state, t, task.params())))
        return task.orders_at(state, t)

    @classmethod
    def refusal(cls, path: str | Path, env: str) -> str:
        """Why an agent of metadata ``env`` at ``path`` is not one this class runs."""
        hybrid = f"hybrid-{env}"
        return f"{str(path)!r} holds a {hybrid} agent (env {env!r}); run it as {hybrid}:path=..."

    @classmethod
    def load(cls, path: str | Path, **options: Any) -> AgentPolicy:
        """Load a saved agent: its model, the normalisation that goes with that model file, its metadata.

        :param path: the directory the trainer wrote, or one of its model files.
        :param options: further keyword arguments of the class (``deterministic``; hybrid-mpc's
            ``horizon`` and ``mip_gap``).
        :raises SpecError: not a saved agent, an agent of another kind, or a damaged model file.
        """
        metadata, model_path = read_metadata(path)
        if metadata["env"] not in cls.kinds:
            raise SpecError("policy.path", cls.refusal(path, metadata["env"]))
        stats = metadata["observation"]["normalisation"]
        if model_path.name not in stats:  # running it unnormalised would act on garbage
            raise SpecError("policy.path", f"{model_path} has no normalisation statistics in its metadata "
                            f"(they are kept for {', '.join(stats) or 'no model'}); load one of those")
        model = load_model(metadata["algo"], model_path)
        return cls(model, metadata, normalisation=stats[model_path.name], label=str(path), **options)


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
    """Load a saved ``rl`` agent as a :class:`~scenarios.policy.Policy` (:meth:`AgentPolicy.load`).

    :param path: the directory ``rl.train`` wrote, or its ``model.zip``.
    :param deterministic: play the mean action.
    :raises SpecError: not a saved agent, a hybrid-mpc agent, or a damaged model file.
    """
    return AgentPolicy.load(path, deterministic=deterministic)
