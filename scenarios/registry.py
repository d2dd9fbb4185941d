"""Every policy family a policy text may name, in one table: the classical ones and the layers'.

A policy text is ``NAME`` or ``NAME:key=v1,v2,...`` (:func:`parse_policy`);
:func:`build_policy` turns it into a :class:`~scenarios.policy.Policy` for a
spec. :data:`FAMILIES` knows every name, each with where its factory lives
(``"module:function"``) and how it is written; the factory's module is imported
the first time a policy of that family is built, never before. So every
command, batch job and library call knows every name, whichever modules it has
imported (no name exists only after some import ran), and ``import scenarios``
still imports neither Pyomo nor torch.

Why this does not invert the dependency arrows (``scenarios`` <- ``milp``,
``rl`` <- ``hybrid``): the table holds module *names* as text, like a package's
entry points; no module of ``scenarios`` imports ``milp``, ``rl`` or
``hybrid`` when it is imported, and none of their code is needed to read the
table, parse a text or list the names. Only building a layer's policy imports
that layer -- at run time, through :func:`importlib.import_module`, by a
caller who asked for that policy -- exactly as ``echelon`` itself does. A test
(``tests/test_registry.py``) checks that importing ``scenarios`` imports no
layer, and that every target resolves.

A new family: write its factory (``factory(spec, params, train) -> Policy``,
see :data:`PolicyFactory`) in its layer, and add one :class:`Family` line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING

from scenarios.errors import SpecError

if TYPE_CHECKING:
    from scenarios.paths import SamplePaths
    from scenarios.policy import Policy
    from scenarios.spec import Spec

__all__ = ["FAMILIES", "Family", "PolicyFactory", "build_policy", "canonical", "factory", "parse_policy",
           "policy_help", "policy_names"]

#: Builds a policy from its parsed parameters (``None``: a bare name -- tune,
#: solve or default it); ``train()`` draws the training paths on first use.
PolicyFactory = Callable[["Spec", "dict[str, list[float | str]] | None", Callable[[], "SamplePaths"]],
                         "Policy"]


@dataclass(frozen=True)
class Family:
    """One policy family.

    :param name: what a policy text starts with.
    :param target: ``"module:function"`` of its :data:`PolicyFactory`, imported on first use.
    :param usage: how it is written, for help texts (``rl:path=DIR``).
    :param bare: what a bare name does (``tuned``, ``solved``, ...), or ``""`` when it
        needs parameters.
    """

    name: str
    target: str
    usage: str
    bare: str = ""


_CLASSICAL = "scenarios.policies:classical_factory"  # takes the family name (see factory())

#: Every family, in the order help texts list them (the classical classes: ``scenarios.policies.FAMILIES``).
FAMILIES: dict[str, Family] = {f.name: f for f in (
    Family("base-stock", _CLASSICAL, "base-stock[:S=...]", "tuned"),
    Family("echelon-base-stock", _CLASSICAL, "echelon-base-stock[:S=...]", "tuned"),
    Family("sS", _CLASSICAL, "sS[:s=...;S=...]", "tuned"),
    Family("sQ", _CLASSICAL, "sQ[:s=...;Q=...]", "tuned"),
    Family("capped-base-stock", _CLASSICAL, "capped-base-stock[:S=...;r=...]", "tuned"),
    Family("rolling-horizon", "milp:rolling_from_params",
           "rolling-horizon[:horizon=H,safety=...,scenarios=M]", "defaults"),
    Family("milp-static", "milp:static_from_params", "milp-static", "solved"),
    Family("rolling-horizon-ss", "hybrid.baselines:rolling_ss_from_params",
           "rolling-horizon-ss[:horizon=H,k=K]", "safety tuned"),
    Family("rl", "rl:rl_from_params", "rl:path=DIR"),
    Family("hybrid-mpc", "hybrid.policies:hybrid_mpc_from_params", "hybrid-mpc:path=DIR[,horizon=H]"),
    Family("hybrid-anchor", "hybrid.policies:hybrid_anchor_from_params", "hybrid-anchor:path=DIR"),
)}
_ALIASES = {"ss": "sS", "s-s": "sS", "sq": "sQ", "rq": "sQ", "r-q": "sQ", "s-q": "sQ"}


def policy_names() -> list[str]:
    """Every family name a policy text may use."""
    return list(FAMILIES)


def policy_help() -> str:
    """Every family as a help text lists it: its name and what a bare name does, or how it is written.

    >>> policy_help().endswith("rl:path=DIR, hybrid-mpc:path=DIR[,horizon=H], hybrid-anchor:path=DIR.")
    True
    """
    groups: list[tuple[str, list[str]]] = []  # neighbours that do the same when bare share a note
    for f in FAMILIES.values():
        shown = f.name if f.bare else f.usage
        if groups and groups[-1][0] == f.bare:
            groups[-1][1].append(shown)
        else:
            groups.append((f.bare, [shown]))
    return "Families: " + "; ".join(", ".join(usages) + (f" (bare name: {bare})" if bare else "")
                                    for bare, usages in groups) + "."


def canonical(name: str) -> str:
    """The family ``name`` means (aliases such as ``ss`` or ``rq`` resolved).

    :raises SpecError: field ``policy``: an unknown name, with the known ones.
    """
    key = name.strip()
    key = _ALIASES.get(key.lower(), key)
    if key not in FAMILIES:
        raise SpecError("policy", f"unknown policy {name!r}; known: {', '.join(FAMILIES)}")
    return key


def factory(name: str) -> PolicyFactory:
    """The factory of family ``name``, importing its module now (the first use).

    :raises SpecError: an unknown name.
    """
    family = FAMILIES[canonical(name)]
    module, _, function = family.target.partition(":")
    found = getattr(import_module(module), function)
    return found(family.name) if family.target == _CLASSICAL else found


def parse_policy(text: str) -> tuple[str, dict[str, list[float | str]] | None]:
    """Parse ``NAME`` or ``NAME:key=v1,v2,...;key2=...``.

    Values are one per node, in the scenario's node order. Several parameters
    are separated by ``;`` or by a new ``key=`` (``sS:s=3,4,S=8,9``). Numbers
    are parsed as floats; other values (a model path) stay strings.

    >>> parse_policy("ss:s=3,4;S=8,9")
    ('sS', {'s': [3.0, 4.0], 'S': [8.0, 9.0]})

    :return: ``(family, params)``; ``params`` is ``None`` for a bare name.
    :raises SpecError: an unknown name, a key given twice or without values.
    """
    name, _, rest = text.partition(":")
    family = canonical(name)
    if not rest.strip():
        return family, None
    params: dict[str, list[float | str]] = {}
    key = None
    for token in rest.replace(";", ",").split(","):
        token = token.strip()
        if not token:
            continue
        if "=" in token:
            key, _, token = token.partition("=")
            key = key.strip()
            if key in params:
                raise SpecError(f"policy.{key}", "given twice")
            params[key] = []
            if not token.strip():
                raise SpecError(f"policy.{key}", "has no value")
        if key is None:
            raise SpecError("policy", f"expected key=values after ':' in {text!r}")
        try:
            params[key].append(float(token))
        except ValueError:
            params[key].append(token)
    return family, params


def build_policy(spec: Spec, text: str, train: Callable[[], SamplePaths]) -> Policy:
    """The policy a text names, for ``spec``; bare names are tuned or solved on ``train()``.

    :raises SpecError: unknown name, bad values, a missing saved agent, or a
        network the policy cannot run on.
    """
    name, params = parse_policy(text)
    return factory(name)(spec, params, train)
