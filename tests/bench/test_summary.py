"""bench/summary.py: the summary table at the top of BENCHMARKS.md, made from the records alone."""

from __future__ import annotations

import re
from pathlib import Path

import render
import summary

ROOT = Path(__file__).resolve().parents[2]
MACHINE = {"date": "2026-01-02 03:04 UTC", "commit": "abc1234"}


def _simulator(ratio: float) -> dict:
    rows = [{"scenario": "divergent-1w3r", "paths": 1024, "ratio": ratio},
            {"scenario": "divergent-1w3r", "paths": 64, "ratio": 13.0}]
    return {"name": "simulator", "machine": MACHINE, "data": {"results": rows}}


def _milp(lost: float, backlog: float) -> dict:
    return {"name": "milp", "machine": {**MACHINE, "date": "2026-01-03 00:00 UTC"}, "data": {
        "persistence": {"divergent-1w3r": {"ratio": 5.2}},
        "formulation": {"lost-sales": {"time_ratio": lost}, "backlog": {"time_ratio": backlog}},
        "rolling_at_scale": [{"safety": 0.0, "median_s": 0.02, "paths": 5, "periods": 26}]}}


def _row(lines: list[str], figure: str) -> list[str]:
    line = next(x for x in lines if x.startswith(f"| {figure} |"))
    return [cell.strip() for cell in line.strip("|").split(" | ")]


def test_each_row_gives_result_goal_met_and_link_from_the_records() -> None:
    lines = summary.summary({"simulator": _simulator(48.8), "milp": _milp(175.8, 4.8)})
    figure, result, goal, met, link = _row(lines, "simulator vs a plain Python loop, 1024 paths")
    assert (result, goal, met) == ("divergent-1w3r 48.8x", ">= 100x", "**not met**")
    assert link == "[Simulator throughput](#simulator-throughput)"
    assert _row(lines, "MILP: persistent vs rebuilt model per step")[1:4] == [
        "5.2x on divergent-1w3r (LP)", ">= 5x", "met"]
    assert _row(lines, "MILP: tight vs naive big-M, fixed-cost instance")[2:4] == [">= 20x", "partly"]
    assert "Records dated 2026-01-02 03:04 UTC to 2026-01-03 00:00 UTC" in lines[-1]


def test_a_met_goal_and_a_missing_record_say_so() -> None:
    lines = summary.summary({"simulator": _simulator(120.0)})
    assert _row(lines, "simulator vs a plain Python loop, 1024 paths")[3] == "met"
    result, _, met = _row(lines, "simulator vs OR-Gym, 1024 paths")[1:4]
    assert (result, met) == ("no record (`peers_orgym.json`)", "-")


def test_every_row_of_the_real_records_renders() -> None:
    records = render.load_records(ROOT / "bench" / "results")
    lines = summary.summary(records)
    assert len(lines) == len(summary.HEADLINES) + 4
    assert all(line.count(" | ") == 4 for line in lines[2:-2])


def test_every_section_link_points_at_a_heading_of_benchmarks_md() -> None:
    text = (ROOT / "BENCHMARKS.md").read_text()
    headings = {summary.anchor(m) for m in re.findall(r"^#+ (.+)$", text, re.M)}
    for h in summary.HEADLINES:
        assert summary.anchor(h.section) in headings, h.section


def test_anchor_follows_github() -> None:
    assert summary.anchor("OR-Gym `InvManagement-v0/v1`") == "#or-gym-invmanagement-v0v1"
    assert summary.anchor("The published PPO claim re-run (warehouse -> 3 retailers; preliminary)") == \
        "#the-published-ppo-claim-re-run-warehouse---3-retailers-preliminary"


def test_the_summary_region_sits_first_and_renders_without_any_record() -> None:
    text = (ROOT / "BENCHMARKS.md").read_text()
    assert text.index("<!-- bench:summary -->") < text.index("\n## ", text.index("## Summary") + 1)
    doc = "# T\n\n<!-- bench:summary -->\nold\n<!-- /bench:summary -->\n\n## Simulator throughput\n"
    new = render.render_text(doc, {}, log=lambda m: None)
    assert "old" not in new and "| headline | result | goal | met | section |" in new
    assert "- `" not in new  # no command stamps: each section has its own
    assert "from `bench/results/*.json`" in new


def test_a_skipped_peer_says_why() -> None:
    record = {"name": "peers_orgym", "machine": MACHINE, "data": {
        "skipped": "skipped: .venv-peers/bin/python is absent", "parity": [],
        "summary": {"speedup_1024": None, "max_abs_profit_diff": None}}}
    lines = summary.summary({"peers_orgym": record})
    assert _row(lines, "simulator vs OR-Gym, 1024 paths")[1:4] == [
        "OR-Gym rows skipped (.venv-peers/bin/python is absent)", ">= 100x", "-"]


def test_the_relaxed_bound_reads_old_and_new_records() -> None:
    result = {"bound_per_period": 218.16, "relaxed_over_hindsight": 0.248}
    for record in (result, {"name": "relaxed_bound", "machine": MACHINE, "data": result}):
        lines = summary.summary({"relaxed-bound-seasonal-grocery": record})
        row = _row(lines, "seasonal-grocery: lower bound on any policy (relaxed DP, run by hand)")
        assert row[1].startswith("218.16 per week, +24.80% over the hindsight bound")
