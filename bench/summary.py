"""The one-screen summary at the top of BENCHMARKS.md: each headline figure, its goal, met or not.

:func:`summary` makes the ``<!-- bench:summary -->`` region from the result records alone
(``bench/results/*.json``), so ``bench/render.py`` re-renders it with the tables. Each row is a
:class:`Headline`: what is measured, the goal the issue set (``-`` where it set none), the
records it reads and the section of BENCHMARKS.md it links to. A row whose records are missing
says so instead of a number.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["CLAIMS", "HEADLINES", "Headline", "anchor", "summary"]

Records = dict[str, dict[str, Any]]
#: What :attr:`Headline.measure` returns: the result text, and met (``True``/``False``), no goal
#: (``None``), or a word of its own (``"partly"``).
Measure = tuple[str, bool | str | None]

#: The published claims the re-run answers (singhdivyank/multi-echelon-rl-inventory, as the
#: section "Published RL settings as scenarios" reads them): algorithm and cost change vs (s, S).
CLAIMS = {"rl-divergent-1w3r": ("PPO", -0.3676), "rl-divergent-1w3r-ns": ("PPO", -0.9420),
          "rl-divergent-1w2r": ("A3C", +0.0164), "rl-divergent-1w2r-ns": ("A3C", -0.2179)}


@dataclass(frozen=True)
class Headline:
    """One row of the summary."""

    figure: str
    """What is measured, in a few words."""
    goal: str
    """The goal the issue set, or ``-``."""
    section: str
    """The heading of BENCHMARKS.md that holds the table (linked, see :func:`anchor`)."""
    sources: tuple[str, ...]
    """Result records (``bench/results/NAME.json``) that :attr:`measure` reads; all required."""
    measure: Callable[[Records], Measure]
    """The result text and whether the goal is met, from the records."""


def anchor(heading: str) -> str:
    """GitHub's link target for a heading: ``"Simulator throughput"`` -> ``"#simulator-throughput"``."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return "#" + text.replace(" ", "-")


def _pct(x: float) -> str:
    return f"{x:+.2%}"


def _range(gaps: list[float]) -> str:
    return f"{_pct(min(gaps))} to {_pct(max(gaps))} (median {_pct(float(np.median(gaps)))})"


def _data(records: Records, name: str) -> dict[str, Any]:
    """A record's results: under ``"data"`` (``bench.record``), or the record itself (older records)."""
    return records[name].get("data", records[name])


def _skipped(data: dict[str, Any], peer: str) -> str:
    """``OR-Gym rows skipped (why)``, from the record's ``skipped`` message."""
    why = str(data.get("skipped") or "no number recorded").removeprefix("skipped: ")
    return f"{peer} rows skipped ({why})"


# ----------------------------------------------------------------------------- the measures

def _simulator(r: Records) -> Measure:
    rows = [x for x in _data(r, "simulator")["results"] if x["paths"] == 1024]
    if not rows:
        return "no 1024-path row (a --quick run)", None
    return ", ".join(f"{x['scenario']} {x['ratio']:.1f}x" for x in rows), all(x["ratio"] >= 100 for x in rows)


def _orgym_speed(r: Records) -> Measure:
    data = _data(r, "peers_orgym")
    speedup = data["summary"].get("speedup_1024")
    if not speedup:
        return _skipped(data, "OR-Gym"), None
    return f"{speedup:.1f}x (OR-Gym measured in the same run)", speedup >= 100


def _orgym_parity(r: Records) -> Measure:
    data = _data(r, "peers_orgym")
    worst = data["summary"].get("max_abs_profit_diff")
    if worst is None:
        return _skipped(data, "OR-Gym"), None
    runs = len(data.get("parity", []))
    return f"worst per-path difference {worst:.1e} ({runs} scenario x level-set runs)", worst <= 1e-9


def _stockpyl_parity(r: Records) -> Measure:
    data = _data(r, "peers_stockpyl")
    if data.get("skipped"):
        return _skipped(data, "stockpyl"), None
    inside = sum(bool(x["within_ci"]) for x in data["instances"])
    n = len(data["instances"])
    return (f"C\\* inside echelon's 95% CI on {inside} of {n} instances (largest difference "
            f"{data['summary']['max_rel_cost_diff']:.2%})"), inside == n


def _stockpyl_speed(r: Records) -> Measure:
    data = _data(r, "peers_stockpyl")
    if data.get("skipped"):
        return _skipped(data, "stockpyl"), None
    return f"{data['summary']['speedup_1024']:,.0f}x stockpyl's simulator", None


def _classical(scenario: str, goal: float | None) -> Callable[[Records], Measure]:
    def measure(r: Records) -> Measure:
        found = [sc for sc in _data(r, "known_optima")["scenarios"] if sc["scenario"] == scenario]
        if not found:
            return f"{scenario} not in the record", None
        best = min(found[0]["rows"], key=lambda row: row["cost"]["mean"])
        text = f"{best['policy']} {_pct(best['gap'])} (optimum {found[0]['optimum']:g})"
        return text, None if goal is None else best["gap"] <= goal
    return measure


def _saa_serial(r: Records) -> Measure:
    found = [sc for sc in _data(r, "static")["results"] if sc["scenario"] == "serial-3"]
    if not found:
        return "serial-3 not in the record", None
    gap = found[0]["methods"]["saa-ccp"]["gap_to_optimum"]
    return f"SAA levels {_pct(gap)} on the test paths", gap <= 0.01


def _zipkin(r: Records) -> Measure:
    instances = _data(r, "zipkin")["instances"]
    text = f"best classical {_range([min(p['gap'] for p in inst['policies']) for inst in instances])}"
    agents = [inst["rl"]["gap"] for inst in instances if "rl" in inst]
    if agents:
        text += f"; RL agents {_range(agents)}"
    return f"{len(instances)} instances: {text}", None


def _rl_agent(scenario: str, goal: float) -> Callable[[Records], Measure]:
    def measure(r: Records) -> Measure:
        runs = {run["scenario"]: run for run in _data(r, "rl-known-optima")["runs"]}
        if scenario not in runs:
            return f"{scenario} not in the record", None
        agents = [x for x in runs[scenario]["results"] if x["policy"].startswith("rl-")]
        if not agents:
            return "no agent in the record", None
        best = min(agents, key=lambda x: x["gap_to_optimum"])
        return f"{best['policy']} {_pct(best['gap_to_optimum'])}", best["gap_to_optimum"] <= goal
    return measure


def _rl_env(r: Records) -> Measure:
    rows = [x for x in _data(r, "rl_env")["results"] if x["n_envs"] == 64]
    if not rows:
        return "no 64-env row", None
    return ", ".join(f"{x['env']} {x['ratio']:.1f}x" for x in rows), all(x["ratio"] >= 20 for x in rows)


def _milp_persistence(r: Records) -> Measure:
    lp = _data(r, "milp")["persistence"].get("divergent-1w3r")
    if lp is None:
        return "divergent-1w3r not in the record", None
    return f"{lp['ratio']:.1f}x on divergent-1w3r (LP)", lp["ratio"] >= 5


def _milp_formulation(r: Records) -> Measure:
    forms = _data(r, "milp")["formulation"]
    met = [f["time_ratio"] >= 20 for f in forms.values()]
    status: bool | str = all(met) if all(met) or not any(met) else "partly"
    return ", ".join(f"{name} {f['time_ratio']:.1f}x" for name, f in forms.items()), status


def _milp_step(r: Records) -> Measure:
    runs = _data(r, "milp")["rolling_at_scale"]
    text = ", ".join(f"safety {s['safety']:g}: {1e3 * s['median_s']:.1f} ms" for s in runs)
    size = f" ({runs[0]['paths']} paths x {runs[0]['periods']} periods)" if runs else ""
    return text + size, bool(runs) and all(s["median_s"] < 0.1 for s in runs)


def _claims(sources: tuple[str, ...], settings: tuple[str, str]) -> Callable[[Records], Measure]:
    def measure(r: Records) -> Measure:
        parts = []
        for source in (s for s in sources if s in r):
            runs = {run["scenario"]: run for run in _data(r, source)["runs"]}
            tune = [runs[s]["summary"]["tune"]["relative"] for s in settings
                    if s in runs and "tune" in runs[s]["summary"]]
            algo = "A2C" if source.endswith("a2c") else "PPO"
            parts.append(f"{algo} TuneEnv {' / '.join(_pct(x) for x in tune)}")
        return "; ".join(parts) + " vs tuned (s,S)", None
    return measure


def _claim_goal(settings: tuple[str, str]) -> str:
    algo = CLAIMS[settings[0]][0]
    return f"{algo}'s claim: {' / '.join(_pct(CLAIMS[s][1]) for s in settings)}"


def _hybrid(r: Records) -> Measure:
    record = r["hybrid-seasonal-grocery"]
    hybrids = [x for x in record["results"] if x["policy"].startswith("hybrid-") and "gap_to_bound" in x]
    if not hybrids:
        return "no hybrid row with the hindsight bound", None
    gap = min(x["gap_to_bound"] for x in hybrids)
    lowest = all(d["ci95"][0] > 0 for d in record["pooled_vs_hybrid"].values())
    return (f"{_pct(gap)} above the hindsight bound; cheapest with CI against every other policy: "
            f"{'yes' if lowest else 'no'}"), lowest and gap <= 0.10


def _relaxed(r: Records) -> Measure:
    d = _data(r, "relaxed-bound-seasonal-grocery")
    if "relaxed_over_hindsight" not in d:
        return f"{d['bound_per_period']:.2f} per week (no hindsight bound in the record)", None
    return (f"{d['bound_per_period']:.2f} per week, {_pct(d['relaxed_over_hindsight'])} over the hindsight "
            f"bound: no policy can be within 10% of it"), None


# ----------------------------------------------------------------------------- the rows

SIM = "Simulator throughput"
KNOWN = "Known optima: tuned classical policies"
ZIPKIN = "Known optima: Zipkin lost-sales table"
RL_ENV = "RL environments: batched VecEnv vs DummyVecEnv"
PPO_CLAIM = ("rl-divergent-1w3r", "rl-divergent-1w3r-ns")
A3C_CLAIM = ("rl-divergent-1w2r", "rl-divergent-1w2r-ns")

#: The rows, in the order of the summary table.
HEADLINES: tuple[Headline, ...] = (
    Headline("simulator vs a plain Python loop, 1024 paths", ">= 100x", SIM, ("simulator",), _simulator),
    Headline("simulator vs OR-Gym, 1024 paths", ">= 100x", "OR-Gym `InvManagement-v0/v1`",
             ("peers_orgym",), _orgym_speed),
    Headline("OR-Gym parity, discounted profit per path", "<= 1e-9", "OR-Gym `InvManagement-v0/v1`",
             ("peers_orgym",), _orgym_parity),
    Headline("stockpyl exact optima C\\* (5 serial systems)", "inside the simulation CI",
             "stockpyl serial systems", ("peers_stockpyl",), _stockpyl_parity),
    Headline("simulator vs stockpyl, 1024 paths", "-", "stockpyl serial systems", ("peers_stockpyl",),
             _stockpyl_speed),
    Headline("serial-3: best tuned classical policy, gap to 47.67", "<= 1%", KNOWN, ("known_optima",),
             _classical("serial-3", 0.01)),
    Headline("serial-3: SAA static levels (MILP), gap", "<= 1%",
             "Optimal static levels: SAA program vs simulation-optimisation tuner", ("static",), _saa_serial),
    Headline("lost-sales-poisson: best tuned classical policy, gap", "-", KNOWN, ("known_optima",),
             _classical("lost-sales-poisson", None)),
    Headline("Zipkin lost-sales table, gap to the exact optimum", "-", ZIPKIN, ("zipkin",), _zipkin),
    Headline("serial-3: RL agent, gap", "<= 2%", "RL agents against tuned classical policies",
             ("rl-known-optima",), _rl_agent("serial-3", 0.02)),
    Headline("lost-sales-poisson: RL agent, gap", "<= 3%", "RL agents against tuned classical policies",
             ("rl-known-optima",), _rl_agent("lost-sales-poisson", 0.03)),
    Headline("batched VecEnv vs DummyVecEnv, 64 envs", ">= 20x", RL_ENV, ("rl_env",), _rl_env),
    Headline("MILP: persistent vs rebuilt model per step", ">= 5x",
             "MILP layer: persistence, formulation, rolling horizon at scale", ("milp",), _milp_persistence),
    Headline("MILP: tight vs naive big-M, fixed-cost instance", ">= 20x",
             "MILP layer: persistence, formulation, rolling horizon at scale", ("milp",), _milp_formulation),
    Headline("MILP: median rolling-horizon step, H = 13, 1% gap", "< 100 ms",
             "MILP layer: persistence, formulation, rolling horizon at scale", ("milp",), _milp_step),
    Headline("published PPO claim re-run (warehouse -> 3 retailers)", _claim_goal(PPO_CLAIM),
             "The published PPO claim re-run (warehouse -> 3 retailers; preliminary)", ("rl-claims-1w3r",),
             _claims(("rl-claims-1w3r",), PPO_CLAIM)),
    Headline("published A3C claim re-run (factory -> warehouse -> 2 retailers)", _claim_goal(A3C_CLAIM),
             "The published PPO claim re-run (warehouse -> 3 retailers; preliminary)", ("rl-claims-1w2r",),
             _claims(("rl-claims-1w2r", "rl-claims-1w2r-a2c"), A3C_CLAIM)),
    Headline("seasonal-grocery: hybrid-mpc (run by hand)", "cheapest (paired CI) and <= 10% over the "
             "hindsight bound", "Hybrid: hybrid-mpc against tuned (s,S), the planner with a tuned safety "
             "stock and RL agents", ("hybrid-seasonal-grocery",), _hybrid),
    Headline("seasonal-grocery: lower bound on any policy (relaxed DP, run by hand)", "-",
             "No policy can come within 10% of the hindsight bound on seasonal-grocery",
             ("relaxed-bound-seasonal-grocery",), _relaxed),
)


def _status(met: bool | str | None) -> str:
    if met is None:
        return "-"
    if isinstance(met, str):
        return met
    return "met" if met else "**not met**"


def _date(record: dict[str, Any]) -> str | None:
    return record.get("machine", {}).get("date") or record.get("date")


def summary(records: Records, headlines: tuple[Headline, ...] = HEADLINES) -> list[str]:
    """The summary table's lines: figure, result, goal, met, section link; from ``records`` alone.

    :param records: result records by name (``bench.render.load_records``).
    :param headlines: the rows (default :data:`HEADLINES`).
    """
    rows = []
    for h in headlines:
        missing = [s for s in h.sources if s not in records]
        if missing:
            result, met = f"no record ({', '.join(f'`{m}.json`' for m in missing)})", None
        else:
            result, met = h.measure(records)
        link = f"[{h.section}]({anchor(h.section)})"
        rows.append(f"| {h.figure} | {result} | {h.goal} | {_status(met)} | {link} |")
    used = sorted({s for h in headlines for s in h.sources if s in records})
    dates = sorted(d for d in (_date(records[s]) for s in used) if d)
    when = f"Records dated {dates[0]} to {dates[-1]}; " if dates else ""
    return ["| headline | result | goal | met | section |", "|---|---|---|---|---|", *rows, "",
            f"{when}each section names the command, commit and machine of its numbers. Goals are the "
            f"issues'; `-`: no goal was set."]
