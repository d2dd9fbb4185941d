"""Rewrite the generated tables of BENCHMARKS.md from the records in bench/results/*.json.

    python bench/render.py                       # BENCHMARKS.md from bench/results
    python bench/render.py --results DIR --doc FILE

BENCHMARKS.md marks each generated region::

    <!-- bench:NAME -->
    ...generated: a line naming the command, date, commit and machine, then a table...
    <!-- /bench:NAME -->

Only the text between the two markers is replaced; everything else (the
hand-written prose) is kept byte for byte. Each region is made from the result
files :data:`REGIONS` lists for it (written by the benchmarks' ``--record``
option during ``make bench``); when a required file is missing the region is
left as it is and a message says so. The region is indented like its opening
marker (a table inside a list item stays inside it).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import common  # bench/common.py: this checkout first on sys.path (why: there)
import numpy as np

from bench.summary import CLAIMS, summary

ROOT = common.ROOT
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "BENCHMARKS.md"

__all__ = ["REGIONS", "Region", "load_records", "main", "render", "render_text"]

MARKER = re.compile(r"^(?P<indent>[ \t]*)<!-- bench:(?P<name>[\w.-]+) -->[ \t]*\n(?P<body>.*?)"
                    r"^[ \t]*<!-- /bench:(?P=name) -->", re.S | re.M)

#: stockpyl instances that are a built-in scenario: Snyder & Shen's Example 6.1 is ``serial-3``.
STOCKPYL_BUILTIN = {"example_6_1": "serial-3"}

Records = dict[str, dict[str, Any]]


# ----------------------------------------------------------------------------- formatting

def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:+.2%}"


def _ci(est: dict[str, Any], digits: int = 4) -> str:
    """``mean [low, high]`` of an estimate ``{"mean": m, "ci95": [low, high]}``."""
    low, high = est["ci95"]
    return f"{est['mean']:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def _signed_ci(est: dict[str, Any], digits: int = 4) -> str:
    low, high = est["ci95"]
    return f"{est['mean']:+.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]"


def _rate(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x / 1e6:.2f} M" if x >= 1e6 else f"{x / 1e3:.1f} k"


def _num(v: float) -> str:
    """4 significant digits, but whole numbers from 1000 up in full (``14283``, not ``1.428e+04``)."""
    return f"{v:.0f}" if abs(v) >= 1000 else f"{v:.4g}"


def _params(params: dict[str, Any] | None) -> str:
    """``S=6.492, 5.529; r=16`` (see :func:`_num`), or ``-``."""
    if not params:
        return "-"
    return "; ".join(f"{k}={', '.join(_num(v) for v in np.ravel(vs))}" for k, vs in params.items())


def _row(*cells: Any) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(head: list[str], align: str, rows: list[list[Any]]) -> list[str]:
    """A markdown table; ``align`` has one letter per column, ``l`` or ``r``."""
    rule = "|" + "|".join("---" if a == "l" else "---:" for a in align) + "|"
    return [_row(*head), rule, *(_row(*r) for r in rows)]


def stamp(name: str, record: dict[str, Any]) -> str:
    """The line above a generated table: the command, when, which commit, which machine."""
    m = record.get("machine", {})
    load = m.get("load_average", [None])[0]
    load_end = m.get("load_average_end", [None])[0]
    parts = [f"{m.get('date', '?')}", f"commit {m.get('commit', '?')}",
             f"{m.get('nproc', '?')} CPUs ({m.get('cpu', '?')}, {m.get('arch', '?')})",
             f"Python {m.get('python', '?')}, numpy {m.get('numpy', '?')}"]
    if load is not None:
        parts.append(f"load {load:g} -> {load_end:g}" if load_end is not None else f"load {load:g}")
    if record.get("seconds") is not None:
        parts.append(f"{record['seconds']:.0f} s")
    command = record.get("command", "?")
    where = "" if f"bench/results/{name}.json" in command else f" (`bench/results/{name}.json`)"
    return f"`{command}`{where}: " + ", ".join(parts) + "."


# ----------------------------------------------------------------------------- regions

def simulator(records: Records) -> list[str]:
    """Batched simulator against the plain-Python reference loop."""
    rows = []
    for r in records["simulator"]["data"]["results"]:
        rows.append([r["scenario"], r["paths"], f"{r['nodes']} x {r['skus']}", f"{r['batched_s']:.4f}",
                     _rate(r["batched_node_periods_per_s"]),
                     f"{_rate(r['reference_node_periods_per_s'])} ({r['reference_paths_timed']})",
                     f"{r['ratio']:.1f}x", f"{r['ratio_cpu']:.1f}x"])
    return _table(["scenario", "paths", "nodes x SKUs", "batched s", "batched node-periods/s",
                   "reference node-periods/s (paths timed)", "ratio", "ratio, CPU time"], "lrrrrrrr", rows)


def known_optima(records: Records) -> list[str]:
    """Tuned classical families against the published optima."""
    rows = []
    for sc in records["known_optima"]["data"]["scenarios"]:
        for r in sc["rows"]:
            rows.append([sc["scenario"], f"{sc['optimum']:g}", r["policy"], _params(r["params"]),
                         _ci(r["cost"]), _pct(r["gap"]), f"{r['tuning_s']:.1f}"])
    out = _table(["scenario", "optimum", "policy", "tuned parameters", "cost / period (95% CI)", "gap",
                  "tuning s"], "lrllrrr", rows)
    notes = [f"{sc['scenario']}: {sc['test_paths']} test paths x {sc['periods']} periods after "
             f"{sc['warmup']} warm-up, seed {sc['seed']}, tuned on {sc['train_paths']} training paths"
             for sc in records["known_optima"]["data"]["scenarios"]]
    return out + ["", "; ".join(notes) + "."]


def static(records: Records) -> list[str]:
    """The SAA program against the simulation tuner."""
    rows = []
    for sc in records["static"]["data"]["results"]:
        name = sc["scenario"] + ("" if sc["scenario"] != "lost-sales-poisson" else " (approximate)")
        for key, m in sc["methods"].items():
            method = "tuner" if key == "tuner" else f"SAA program ({key[4:]})"
            rows.append([name, method, ", ".join(f"{v:.5g}" for v in np.ravel(m["levels"])),
                         f"{m['train_cost']:.4f}", _ci(m["test_cost"], 3), _pct(m.get("gap_to_optimum")),
                         f"{m['seconds']:.2f} s"])
        d = sc["saa_minus_tuner"]
        rows.append([name, "SAA minus tuner, paired", "", "", _signed_ci(d), "", ""])
    return _table(["scenario", "method", "levels", "train cost", "test cost (95% CI)", "gap to optimum",
                   "time"], "lllrrrr", rows)


def rl_env(records: Records) -> list[str]:
    """Batched VecEnv against DummyVecEnv."""
    data = records["rl_env"]["data"]
    rows = [[r["env"], r["n_envs"], f"{r['batched_steps_per_s']:,.0f}", f"{r['dummy_steps_per_s']:,.0f}",
             f"{r['ratio']:.1f}x"] for r in data["results"]]
    head = f"{data['scenario']}, {data['periods']} periods + warm-up per episode, best of " \
           f"{data['repeats']} x {data['seconds_per_measurement']:g} s."
    return [head, "", *_table(["env", "n_envs", "batched steps/s", "DummyVecEnv steps/s", "ratio"], "lrrrr",
                              rows)]


def milp(records: Records) -> list[str]:
    """Persistence, formulation and rolling horizon at scale."""
    d = records["milp"]["data"]
    rows = []
    for name, r in d["persistence"].items():
        rows.append([f"1. persistent vs rebuilt, `{name}`, ms/step ({r['steps']} steps)",
                     f"{1e3 * r['persistent_median_s']:.1f} vs {1e3 * r['rebuilt_median_s']:.1f}: "
                     f"**{r['ratio']:.1f}x**"])
    for shortage, r in d["formulation"].items():
        forms = ("naive", "tight", "tight+rounding")
        rows.append([f"2. {shortage}: naive / tight / tight + rounding, s per solve (limit "
                     f"{d['time_limit']:g} s)", " / ".join(f"{r[f]['median_s']:.2f}" for f in forms)])
        rows.append([f"2. {shortage}: ratio naive/tight (naive/tight+rounding)",
                     f"**{r['time_ratio']:.1f}x** ({r['time_ratio_rounding']:.1f}x)"])
        rows.append([f"2. {shortage}: LP-relaxation gap naive / tight",
                     f"{r['naive']['lp_gap_median']:.1%} / {r['tight']['lp_gap_median']:.1%}"])
    for s in d["rolling_at_scale"]:
        rows.append([f"3. seasonal-grocery H = 13, 1% gap, safety {s['safety']:g}, {s['paths']} paths x "
                     f"{s['periods']} periods: median / p90 / max per solve",
                     f"**{1e3 * s['median_s']:.1f} ms** / {1e3 * s['p90_s']:.1f} ms / {s['max_s']:.2f} s "
                     f"({', '.join(f'{k} {v}' for k, v in s['statuses'].items())})"])
    mode = "--quick: " if d["quick"] else ""
    return [f"Latest run ({mode}one run, not a before/after pair):", "",
            *_table(["measure", "result"], "lr", rows)]


def _skipped(record: dict[str, Any]) -> list[str]:
    reason = record["data"].get("skipped")
    return [f"Peer rows skipped: {reason}."] if reason else []


def peers_orgym_parity(records: Records) -> list[str]:
    """Per-path discounted profit, echelon against OR-Gym."""
    rec = records["peers_orgym"]
    rows = []
    for r in rec["data"]["parity"]:
        rows.append([r["scenario"], ", ".join(f"{v:g}" for v in r["z"]),
                     "capped" if r["capped"] else "uncapped", f"{r['echelon_mean_profit']:.3f}",
                     f"{r['orgym_mean_profit']:.3f}" if "orgym_mean_profit" in r else "skipped",
                     f"{r['max_abs_diff']:.1e}" if "max_abs_diff" in r else "-"])
    paths = rec["data"]["summary"]["parity_paths"]
    out = _table(["scenario", "z (echelon levels)", "orders", "mean discounted profit, echelon", "OR-Gym",
                  f"worst abs. diff ({paths} paths)"], "lllrrr", rows)
    worst = rec["data"]["summary"].get("max_abs_profit_diff")
    if worst is not None:
        out += ["", f"**max_abs_profit_diff = {worst:.1e}** (asserted <= 1e-9)."]
    return _skipped(rec) + out


def peers_orgym_speed(records: Records) -> list[str]:
    """Stage-periods per second, echelon against OR-Gym."""
    rec = records["peers_orgym"]
    rows = []
    for r in rec["data"]["speed"]:
        ratio = f"{r['ratio']:.1f}x" if r["ratio"] else "-"
        step = f"{r['ratio_vs_step_only']:.1f}x" if r["ratio_vs_step_only"] else "-"
        rows.append([r["paths"], f"{r['echelon_s']:.4f}", _rate(r["echelon_stage_periods_per_s"]),
                     _rate(r["orgym_stage_periods_per_s"]), ratio, step])
    out = _table(["paths", "echelon s", "echelon stage-periods/s", "OR-Gym stage-periods/s", "ratio",
                  "ratio vs OR-Gym's `env.step` alone"], "rrrrrr", rows)
    speedup = rec["data"]["summary"].get("speedup_1024")
    if speedup:
        out += ["", f"**speedup_1024 = {speedup:.1f}x** (one run; goal >= 100x)."]
    return out


def peers_stockpyl(records: Records) -> list[str]:
    """stockpyl's exact optima against echelon's simulation and tuners."""
    rec = records["peers_stockpyl"]
    if rec["data"].get("skipped"):
        return _skipped(rec)
    d = rec["data"]
    agents = [r["rl"] for r in d["instances"] if r.get("rl")]
    keys = ("tuner", "saa", "rl") if agents else ("tuner", "saa")
    rows = []
    for r in d["instances"]:
        cells = [r["instance"], r["stages"], f"{r['C_star']:.4f}", _ci(r["cost_at_S_star"], 3),
                 "yes" if r["within_ci"] else "**no**"]
        for key in keys:
            m = r.get(key)
            cells.append(f"{m['cost']['mean']:.3f}, {_signed_ci(m['minus_S_star'])}" if m else "not run")
        rows.append(cells)
    heads = {"tuner": "tuner", "saa": "SAA", "rl": "RL (PPO TuneEnv)"}
    out = _table(["instance (Snyder & Shen)", "stages", "C\\* (stockpyl, exact)", "echelon at S\\* (95% CI)",
                  "within CI", *(f"{heads[k]}: cost, minus S\\* (paired)" for k in keys)],
                 "lrrrl" + "r" * len(keys), rows)
    note = f"**max_rel_cost_diff = {d['summary']['max_rel_cost_diff']:.2%}**; {d['paths']} test paths " \
           f"x 300 periods (seed {d['seed']}), tuners on {d['train_paths']} training paths."
    if agents:
        seeds = ", ".join(str(s) for s in sorted({a["seed"] for a in agents}))
        note += f" RL: one PPO TuneEnv agent per instance ({_steps(agents)}, seed {seeds}; the settings " \
                f"`bench/rl_experiments.py` uses for `serial-3`), the model with the lowest held-out cost " \
                f"kept; on the same test paths."
    return out + ["", note]


def peers_stockpyl_speed(records: Records) -> list[str]:
    """Node-periods per second, echelon against stockpyl's simulator."""
    rec = records["peers_stockpyl"]
    if rec["data"].get("skipped"):
        return _skipped(rec)
    rows = [[r["paths"], f"{r['echelon_s']:.4f}", _rate(r["echelon_node_periods_per_s"]),
             f"{r['stockpyl_node_periods_per_s']:,.0f}", f"{r['ratio']:,.1f}x"] for r in rec["data"]["speed"]]
    out = _table(["paths", "echelon s", "echelon node-periods/s", "stockpyl node-periods/s", "ratio"],
                 "rrrrr", rows)
    speedup = rec["data"]["summary"].get("speedup_1024")
    return out + (["", f"**speedup_1024 = {speedup:,.0f}x**."] if speedup else [])


def _zipkin_layers(data: dict[str, Any]) -> list[str]:
    """The optional layers ``bench/zipkin.py`` ran (``"saa"``, ``"rl"``), in that order."""
    return [name for name in ("saa", "rl") if any(name in inst for inst in data["instances"])]


def _steps(agents: list[dict[str, Any]]) -> str:
    """``401k steps`` (or a range), from the agents' recorded steps."""
    steps = sorted({a["steps"] // 1000 for a in agents})
    return f"{steps[0]}k steps" if len(steps) == 1 else f"{steps[0]}k-{steps[-1]}k steps"


def zipkin(records: Records) -> list[str]:
    """Zipkin's lost-sales instances: value-iteration optimum against the tuned families (and layers)."""
    data = records["zipkin"]["data"]
    layers = _zipkin_layers(data)
    rows = []
    for inst in data["instances"]:
        opt = inst["optimum"]["cost"]
        cells = [inst["lead_time"], f"{inst['penalty']:g}", f"{opt:.4f}"]
        for policy in inst["policies"]:
            cells.append(f"{policy['cost']:.4f} ({_params(policy['params'])}) {_pct(policy['gap'])}")
        cells.append(f"**{_pct(min(p['gap'] for p in inst['policies']))}**")
        if "saa" in layers:
            saa = inst.get("saa")
            levels = ", ".join(_num(v) for v in saa["levels"]) if saa else ""
            cells.append(f"{saa['cost']:.4f} (S={levels}) {_pct(saa['gap'])}" if saa else "not run")
        if "rl" in layers:
            agent = inst.get("rl")
            cells.append(f"{agent['cost']:.4f} {_pct(agent['gap'])}" if agent else "not run")
        rows.append(cells)
    names = [p["policy"] for p in data["instances"][0]["policies"]] if data["instances"] else []
    heads = {"saa": "SAA base-stock (MILP, approx.)", "rl": "RL (PPO TuneEnv)"}
    out = _table(["L", "p", "optimum (value iteration)", *names, "best classical gap",
                  *(heads[n] for n in layers)], "rrr" + "r" * len(names) + "r" + "r" * len(layers), rows)
    notes = [f"{data['paths']} test paths x 1000 periods after 50 warm-up, tuned on "
             f"{data['train_paths']} training paths x 300 periods, seed {data['seed']}."]
    if "saa" in layers:
        notes.append("SAA: `milp.optimise_static(spec, training paths, \"base-stock\")` on the same training "
                     "paths; an approximation for lost sales (the program relaxes sales to <= min(demand, "
                     "stock)), its level simulated exactly on the test paths.")
    if "rl" in layers:
        agents = [inst["rl"] for inst in data["instances"] if "rl" in inst]
        seeds = ", ".join(str(s) for s in sorted({a["seed"] for a in agents}))
        notes.append(f"RL: one PPO TuneEnv agent per instance ({_steps(agents)}, seed {seeds}; the settings "
                     f"`bench/rl_experiments.py` uses for `lost-sales-poisson`), the model with the lowest "
                     f"held-out cost kept; on the same test paths.")
    return out + ["", " ".join(notes)]


def rl_settings(records: Records) -> list[str]:
    """The published RL settings' tuned classical baselines."""
    rows = []
    for sc in records["rl_settings"]["data"]["scenarios"]:
        for r in sc["results"]:
            diff = r.get("difference_vs_first")
            rows.append([sc["scenario"], r["policy"], _params(r["params"]), _ci(r["cost_per_period"], 2),
                         _signed_ci(diff, 2) if diff else "-", f"{r['fill_rate']['mean']:.1%}"])
    first = records["rl_settings"]["data"]["scenarios"][0]
    note = f"{first['paths']} test paths (seed {first['seed']}), each family tuned on " \
           f"{first['train_paths']} training paths."
    return _table(["scenario", "policy", "tuned parameters", "cost / period (95% CI)",
                   "paired diff. vs base-stock", "fill rate"], "lllrrr", rows) + ["", note]


def _runs(record: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """``rl_experiments`` reports of a record by scenario."""
    return {} if record is None else {r["scenario"]: r for r in record["data"]["runs"]}


def _kept_step(agent: dict[str, Any]) -> int | str:
    """Timesteps of the model kept (lowest held-out cost); 0 is the untrained network."""
    for point in agent.get("history", []):
        if point.get("cost") == agent["held_out_cost"]:
            return point.get("timesteps", "?")
    return "?"


def _agent_row(setting: str, report: dict[str, Any], kind: str, source: str) -> list[Any] | None:
    """One claim-table row: an algorithm and env kind, its seeds, the paired win over (s, S)."""
    agents = [a for a in report["agents"] if a["kind"] == kind]
    summary = report["summary"].get(kind)
    if not agents or summary is None:
        return None
    algo = agents[0]["config"].get("algo", "ppo").upper()
    results = {r["policy"]: r for r in report["results"]}
    sS = results["sS (tuned)"]["cost_per_period"]["mean"]
    costs = [results[f"rl-{kind} seed {a['seed']}"]["cost_per_period"]["mean"] for a in agents]
    per_seed = " / ".join(f"{c:.2f}" for c in costs)
    span = summary["across_seeds_ci95"]
    scale = max(abs(v) for v in [summary["mean"], *(span or [])])
    d = 4 if scale < 1 else 2 if scale < 1000 else 1  # the paired differences can be far below the cost
    diff = f"{summary['mean']:+.{d}f}" + (f" [{span[0]:+.{d}f}, {span[1]:+.{d}f}]" if span else "") + \
        f" ({summary['relative']:+.2%})"
    every = "yes" if summary["all_seeds_exclude_zero"] else "no"
    kept = " / ".join(str(_kept_step(a)) for a in agents)
    claim_algo, claim = CLAIMS.get(setting, ("-", None))
    steps = agents[0]["timesteps"]
    env = "TuneEnv" if kind == "tune" else "DirectOrderEnv"
    return [f"`{setting}`", f"{claim_algo} {_pct(claim)}", f"{algo} {env}, {steps // 1000}k steps",
            f"{sS:.2f}", per_seed, kept, diff, every, f"`{source}`"]


def rl_claims(records: Records, settings: tuple[str, ...], sources: tuple[str, ...]) -> list[str]:
    """The published claims re-run: each agent's cost against the tuned (s, S) on the same paths."""
    rows = []
    for setting in settings:
        for source in sources:
            report = _runs(records.get(source)).get(setting)
            for kind in ("tune", "direct"):
                row = report and _agent_row(setting, report, kind, source)
                if row:
                    rows.append(row)
    used = [s for s in sources if s in records]
    first = _runs(records[used[0]])[settings[0]] if used and settings[0] in _runs(records[used[0]]) else None
    head = ["setting", "claim vs (s,S)", "agent", "tuned (s,S)", "agent, per seed",
            "model kept, steps (0 = untrained)",
            "paired diff. vs (s,S), mean over seeds (95% CI across seeds)", "every seed's CI below 0",
            "result file"]
    out = _table(head, "lrlrrrrll", rows)
    if first:
        out += ["", f"Cost per period on the same {first['test_paths']} test paths (seed "
                f"{first['test_seed']}); classical policies tuned on {first['train_paths']} training paths."]
    return out


def _gap_cell(label: str, cost: float, ci: list[float] | None, optimum: float, digits: int = 3) -> str:
    interval = f" [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else ""
    return f"{label} {cost:.{digits}f}{interval} ({_pct(cost / optimum - 1)})"


def _layer_classical(sc: dict[str, Any]) -> str:
    best = min(sc["rows"], key=lambda r: r["cost"]["mean"])
    return _gap_cell(best["policy"], best["cost"]["mean"], best["cost"]["ci95"], sc["optimum"])


def _layer_milp(records: Records, scenario: str, optimum: float) -> str:
    static_rec = records.get("static")
    for sc in static_rec["data"]["results"] if static_rec else []:
        if sc["scenario"] == scenario:
            m = sc["methods"]["saa-ccp"]
            note = "" if m.get("exact", True) else ", approximate for this scenario"
            levels = " / ".join(f"{v:.4g}" for v in np.ravel(m["levels"]))
            return _gap_cell(f"`milp-static` SAA levels {levels}{note}:", m["test_cost"]["mean"],
                             m["test_cost"]["ci95"], optimum)
    return "not run"


def _layer_rl(records: Records, scenario: str, optimum: float) -> str:
    report = _runs(records.get("rl-known-optima")).get(scenario)
    if report is None:
        return "not run"
    steps = {f"rl-{a['kind']} seed {a['seed']}": a["timesteps"] for a in report["agents"]}
    cells = []
    for r in report["results"]:
        if r["policy"] in steps:
            env = "TuneEnv" if r["policy"].startswith("rl-tune") else "DirectOrderEnv"
            label = f"{env} agent ({steps[r['policy']] // 1000}k steps, seed {r['policy'].rsplit(' ', 1)[1]})"
            cells.append(_gap_cell(label, r["cost_per_period"]["mean"], r["cost_per_period"]["ci95"],
                                   optimum))
    return "; ".join(cells) or "not run"


def _layer_hybrid(records: Records, scenario: str, optimum: float) -> str:
    record = records.get(f"hybrid-{scenario}")
    if record is None:
        return "not run"
    if record.get("scenario", scenario) != scenario:
        return f"not run (hybrid-{scenario}.json holds {record['scenario']})"
    cells = []
    for r in record["results"]:
        if r["policy"].startswith("hybrid-"):
            seed = re.search(r"seed(\d+)", r["policy"])
            label = f"hybrid-mpc seed {seed.group(1)}" if seed else r["policy"]
            cells.append(_gap_cell(label, r["cost"]["mean"], r["cost"].get("ci95"), optimum))
    return "; ".join(cells) or "not run"


def _layer_sources(records: Records, scenario: str) -> str:
    names = ["known_optima", "static", "rl-known-optima", f"hybrid-{scenario}"]
    return ", ".join(f"`{n}`" for n in names if n in records)


def _gap_range(gaps: list[float]) -> str:
    """``+0.04% to +1.49% (median +0.63%)``."""
    return f"{_pct(min(gaps))} to {_pct(max(gaps))} (median {_pct(float(np.median(gaps)))})"


def _hybrid_gaps(records: Records, scenario: str) -> str | None:
    """The hybrid agents' gaps on a built-in scenario's row (``+4.74%``, ``/``-separated), or ``None``."""
    record = records.get(f"hybrid-{scenario}")
    if record is None or record.get("scenario", scenario) != scenario:
        return None
    scenarios = records.get("known_optima", {}).get("data", {}).get("scenarios", [])
    optimum = next((sc["optimum"] for sc in scenarios if sc["scenario"] == scenario), None)
    costs = [r["cost"]["mean"] for r in record["results"] if r["policy"].startswith("hybrid-")]
    if optimum is None or not costs:
        return None
    return " / ".join(_pct(c / optimum - 1) for c in costs)


def _zipkin_hybrid_pointer(records: Records) -> str:
    """Hybrid on the Zipkin row: not run; a pointer to lost-sales-poisson (L = 2, p = 9) if it ran there."""
    gaps = _hybrid_gaps(records, "lost-sales-poisson")
    return "not run" if gaps is None else f"not run; see lost-sales-poisson ({gaps})"


def _zipkin_layer_row(records: Records) -> list[Any] | None:
    data = records.get("zipkin", {}).get("data")
    if not data:
        return None
    instances = data["instances"]
    best = [min(inst["policies"], key=lambda p: p["gap"]) for inst in instances]
    gaps = [b["gap"] for b in best]
    winners = sorted({b["policy"].split(" (")[0] for b in best})  # the grid is a way to tune, not a family
    classical = f"{' or '.join(winners)}: {_gap_range(gaps)}, see the Zipkin table"

    def share(runs: list[dict[str, Any]]) -> str:
        return "" if len(runs) == len(instances) else f", {len(runs)} of {len(instances)} instances"

    saa = [inst["saa"] for inst in instances if "saa" in inst]
    milp = "not run"
    if saa:
        note = "" if all(r.get("exact") for r in saa) else ", approximate for lost sales"
        milp = f"`milp-static` SAA base-stock{note}{share(saa)}: {_gap_range([r['gap'] for r in saa])}"
    agents = [inst["rl"] for inst in instances if "rl" in inst]
    rl = "not run"
    if agents:
        seeds = ", ".join(str(s) for s in sorted({a["seed"] for a in agents}))
        rl = f"TuneEnv agents ({_steps(agents)}, seed {seeds}{share(agents)}): " \
             f"{_gap_range([a['gap'] for a in agents])}"
    return [f"Zipkin table ({len(best)} instances)", "value iteration", classical, milp, rl,
            _zipkin_hybrid_pointer(records), "`zipkin`"]


def _stockpyl_hybrid_pointer(records: Records, instance: str) -> str:
    """Hybrid on a stockpyl row: not run; for Example 6.1 a pointer to serial-3 (the same system)."""
    scenario = STOCKPYL_BUILTIN.get(instance)
    gaps = _hybrid_gaps(records, scenario) if scenario else None
    return "not run" if gaps is None else f"not run; see {scenario}, the same system ({gaps})"


def _stockpyl_layer_rows(records: Records) -> list[list[Any]]:
    data = records.get("peers_stockpyl", {}).get("data")
    if not data or data.get("skipped"):
        return []
    rows = []
    for r in data["instances"]:
        C = r["C_star"]
        tuner = _gap_cell("tuned echelon base-stock", r["tuner"]["cost"]["mean"], None, C)
        saa = _gap_cell("SAA levels", r["saa"]["cost"]["mean"], None, C) if r.get("saa") else "not run"
        agent = r.get("rl")
        rl = _gap_cell(f"TuneEnv agent ({agent['steps'] // 1000}k steps, seed {agent['seed']})",
                       agent["cost"]["mean"], agent["cost"]["ci95"], C) if agent else "not run"
        rows.append([f"stockpyl `{r['instance']}`", f"{C:.4f} (exact)", tuner, saa, rl,
                     _stockpyl_hybrid_pointer(records, r["instance"]), "`peers_stockpyl`"])
    return rows


def layers(records: Records) -> list[str]:
    """Every layer against the known optima: best classical, MILP, RL and hybrid, with gaps."""
    rows = []
    for sc in records["known_optima"]["data"]["scenarios"]:
        name, optimum = sc["scenario"], sc["optimum"]
        rows.append([name, f"{optimum:g}", _layer_classical(sc), _layer_milp(records, name, optimum),
                     _layer_rl(records, name, optimum), _layer_hybrid(records, name, optimum),
                     _layer_sources(records, name)])
    zipkin_row = _zipkin_layer_row(records)
    rows += [zipkin_row] if zipkin_row else []
    rows += _stockpyl_layer_rows(records)
    return _table(["scenario", "optimum", "best classical", "MILP", "RL", "hybrid", "result files"],
                  "lrllll" + "l", rows)


def _hybrid_stamp(name: str, record: dict[str, Any]) -> str:
    """``bench/hybrid_layer.py`` records carry their arguments and date, not the machine."""
    args = record.get("args", {})
    flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in args.items()
                     if k in ("scenario", "seeds", "paths", "hybrid_timesteps", "gap", "tune_paths"))
    return f"`python bench/hybrid_layer.py {flags} ...` (`bench/results/{name}.json`, run by hand): " \
           f"{record.get('date', '?')}."


# ----------------------------------------------------------------------------- the registry

@dataclass(frozen=True)
class Region:
    """A generated region: the result files it needs, those it uses when present, and its maker."""

    required: tuple[str, ...]
    make: Callable[[Records], list[str]]
    optional: tuple[str, ...] = ()
    stamps: bool = True
    """List each record's command, date, commit and machine above the table (the summary does not)."""


LAYER_OPTIONAL = ("static", "rl-known-optima", "hybrid-serial-3", "hybrid-lost-sales-poisson", "zipkin",
                  "peers_stockpyl")
A3C_SOURCES = ("rl-claims-1w2r", "rl-claims-1w2r-a2c")

REGIONS: dict[str, Region] = {
    "summary": Region((), summary, stamps=False),
    "simulator": Region(("simulator",), simulator),
    "known-optima": Region(("known_optima",), known_optima),
    "layers": Region(("known_optima",), layers, LAYER_OPTIONAL),
    "static": Region(("static",), static),
    "rl-env": Region(("rl_env",), rl_env),
    "milp": Region(("milp",), milp),
    "peers-orgym-parity": Region(("peers_orgym",), peers_orgym_parity),
    "peers-orgym-speed": Region(("peers_orgym",), peers_orgym_speed),
    "peers-stockpyl": Region(("peers_stockpyl",), peers_stockpyl),
    "peers-stockpyl-speed": Region(("peers_stockpyl",), peers_stockpyl_speed),
    "zipkin": Region(("zipkin",), zipkin),
    "rl-settings": Region(("rl_settings",), rl_settings),
    "rl-claims-ppo": Region(("rl-claims-1w3r",), lambda r: rl_claims(
        r, ("rl-divergent-1w3r", "rl-divergent-1w3r-ns"), ("rl-claims-1w3r",))),
    "rl-claims-a3c": Region(("rl-claims-1w2r",), lambda r: rl_claims(
        r, ("rl-divergent-1w2r", "rl-divergent-1w2r-ns"), A3C_SOURCES), A3C_SOURCES[1:]),
}


# ----------------------------------------------------------------------------- rendering

def load_records(results: Path) -> Records:
    """Every ``NAME.json`` in ``results``, by ``NAME``; unreadable files are reported and skipped."""
    records: Records = {}
    for path in sorted(results.glob("*.json")):
        try:
            records[path.stem] = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            print(f"render: {path} is unreadable ({err}); skipped", file=sys.stderr)
    return records


def _region_text(region: Region, records: Records) -> str:
    used = [n for n in dict.fromkeys((*region.required, *region.optional)) if n in records]
    source = "the result files below" if region.stamps else "`bench/results/*.json`"
    lines = [f"*Generated by `make bench` (`bench/render.py`) from {source}; not edited by hand.*"]
    for name in used if region.stamps else []:
        maker = _hybrid_stamp if name.startswith("hybrid-") else stamp
        lines.append(f"- {maker(name, records[name])}")
    return "\n".join([*lines, "", *region.make(records)])


def render_text(text: str, records: Records, regions: dict[str, Region] | None = None,
                log: Callable[[str], None] = print) -> str:
    """``text`` with every marked region whose required records exist regenerated.

    :param text: the document (BENCHMARKS.md).
    :param records: result records by name (see :func:`load_records`).
    :param regions: the region makers (default :data:`REGIONS`).
    :param log: called with one message per region: rewritten, left as it is (and why), unknown.
    :return: the new document; text outside the markers is unchanged.
    """
    regions = REGIONS if regions is None else regions

    def replace(match: re.Match[str]) -> str:
        name, indent = match["name"], match["indent"]
        region = regions.get(name)
        if region is None:
            log(f"render: region {name!r} has no maker; left as it is")
            return match[0]
        missing = [n for n in region.required if n not in records]
        if missing:
            log(f"render: region {name!r} left as it is: no bench/results/{', '.join(missing)}.json")
            return match[0]
        body = "\n".join(indent + line if line else "" for line in _region_text(region, records).split("\n"))
        log(f"render: region {name!r} rewritten")
        return f"{indent}<!-- bench:{name} -->\n{body}\n\n{indent}<!-- /bench:{name} -->"

    return MARKER.sub(replace, text)


def render(doc: Path = DOC, results: Path = RESULTS, log: Callable[[str], None] = print) -> bool:
    """Rewrite the marked regions of ``doc`` from ``results``; ``True`` when the file changed."""
    text = doc.read_text()
    new = render_text(text, load_records(results), log=log)
    if new != text:
        doc.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    """Command line: ``--doc`` and ``--results``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--doc", type=Path, default=DOC, help="the markdown file to rewrite")
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of NAME.json records")
    args = parser.parse_args(argv)
    changed = render(args.doc, args.results)
    print(f"render: {args.doc} {'rewritten' if changed else 'unchanged'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
