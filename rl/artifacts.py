"""What a trained agent is saved as: a directory with the model, its normalisation and metadata.

::

    out/
      model.zip          the SB3 model kept (best on held-out evaluation)
      final_model.zip    the model at the end of training
      vecnormalize.pkl   SB3's VecNormalize at the end of training (for SB3 users)
      metadata.json      everything needed to run the agent again (see below)

``metadata.json`` holds ``format``, ``algo``, ``env`` (``"tune"`` or
``"direct"``), ``env_options``, ``scenario`` (``name``, ``hash`` and the full
training ``spec``), ``anchor``, ``observation`` (``size``, ``features`` and
the ``normalisation`` statistics that go with ``model.zip``: ``mean``,
``var``, ``clip_obs``, ``epsilon``), ``action`` (``size``, ``names``),
``training`` (config, timesteps, time, evaluation history) and ``versions``.

``observation.normalisation`` has one layout: a mapping from model file name
(``model.zip``, ``final_model.zip``) to its statistics (or ``None`` without
normalisation). hybrid-mpc agents saved before the hybrid trained through
:func:`rl.train` hold the statistics of ``model.zip`` unkeyed;
:func:`read_metadata` reads them into this layout.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from scenarios.errors import SpecError

__all__ = ["FORMAT", "METADATA_FILE", "MODEL_FILE", "FINAL_MODEL_FILE", "NORMALIZE_FILE", "agent_metadata",
           "normalisation_stats", "read_metadata", "versions", "write_metadata"]

FORMAT = "echelon-rl/1"
MODEL_FILE = "model.zip"
FINAL_MODEL_FILE = "final_model.zip"
NORMALIZE_FILE = "vecnormalize.pkl"
METADATA_FILE = "metadata.json"
_REQUIRED = ("algo", "env", "env_options", "scenario", "anchor", "observation")  # what loading reads


def versions() -> dict[str, str]:
    """Versions of Python and of the packages a saved agent depends on."""
    out = {"python": platform.python_version()}
    for name in ("echelon", "numpy", "torch", "stable-baselines3", "gymnasium"):
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def normalisation_stats(env: Any) -> dict[str, Any]:
    """The observation statistics of a ``VecNormalize`` now, as the metadata keeps them."""
    rms = env.obs_rms
    return {"mean": rms.mean.tolist(), "var": rms.var.tolist(), "epsilon": env.epsilon,
            "clip_obs": env.clip_obs}


def agent_metadata(*, algo: str, env: str, env_options: dict[str, Any], spec: Any, anchor: Any, task: Any,
                   normalisation: Any, action: dict[str, Any], training: dict[str, Any],
                   **extra: Any) -> dict[str, Any]:
    """The metadata of a trained agent (module notes), for :func:`write_metadata`.

    :param algo: ``"ppo"``, ``"a2c"`` or ``"sac"``.
    :param env: the saved environment kind (``"tune"``, ``"direct"``, ``"mpc"``).
    :param env_options: the keyword options that rebuild the environment's task.
    :param spec: the training scenario.
    :param anchor: the :class:`~rl.anchor.Anchor` the task starts from.
    :param task: the task (its observer gives the observation's size and feature names).
    :param normalisation: the observation statistics (:func:`normalisation_stats`) per model file name.
    :param action: ``size`` and, where known, ``names``.
    :param training: how the agent was trained.
    :param extra: further top-level entries (``deploy`` for hybrid agents).
    """
    return {"algo": algo, "env": env, "env_options": env_options,
            "scenario": {"name": spec.name, "hash": spec.hash, "spec": spec.to_dict()},
            "anchor": anchor.to_dict(),
            "observation": {"size": task.observer.size, "features": task.observer.feature_names,
                            "normalisation": normalisation, "vecnormalize": NORMALIZE_FILE},
            "action": action, "training": training, "versions": versions(), **extra}


def write_metadata(directory: str | Path, data: dict[str, Any]) -> Path:
    """Write ``metadata.json`` into ``directory``; return its path."""
    path = Path(directory) / METADATA_FILE
    path.write_text(json.dumps({"format": FORMAT, **data}, indent=2))
    return path


def read_metadata(path: str | Path) -> tuple[dict[str, Any], Path]:
    """Read the metadata of a saved agent.

    :param path: the agent's directory, its ``model.zip`` (or another zip in
        it), or its ``metadata.json``.
    :return: ``(metadata, model_zip_path)``.
    :raises SpecError: no agent there, or a metadata format this version cannot read.
    """
    path = Path(path)
    if not path.exists():
        raise SpecError("policy.path", f"{str(path)!r} does not exist")
    directory = path if path.is_dir() else path.parent
    model = path if path.suffix == ".zip" else directory / MODEL_FILE
    meta_path = directory / METADATA_FILE
    if path.is_file() and path.suffix not in (".zip", ".json") or not meta_path.exists() \
            or not model.exists():
        raise SpecError("policy.path", f"{str(path)!r} is not a saved agent (needs {MODEL_FILE} and "
                        f"{METADATA_FILE}; `echelon tune` or rl.train() write them)")
    try:
        data = json.loads(meta_path.read_text())
    except json.JSONDecodeError as err:
        raise SpecError("policy.path", f"{meta_path} is not valid JSON: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise SpecError("policy.path", f"{meta_path} has format {found!r}; this version reads {FORMAT!r}")
    missing = [key for key in _REQUIRED if key not in data]
    if missing:
        raise SpecError("policy.path", f"{meta_path} lacks {', '.join(missing)}; is it an agent's metadata?")
    stats = data["observation"].get("normalisation") if isinstance(data["observation"], dict) else None
    if isinstance(stats, dict) and "mean" in stats:  # the old hybrid-mpc layout: model.zip's, unkeyed
        data["observation"]["normalisation"] = {MODEL_FILE: stats}
    return data, model
