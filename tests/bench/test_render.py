"""bench/render.py: only the marked regions of BENCHMARKS.md change, and only from result files."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_render():
    spec = importlib.util.spec_from_file_location("bench_render", ROOT / "bench" / "render.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = _load_render()

MACHINE = {"date": "2026-01-02 03:04 UTC", "commit": "abc1234", "nproc": 2, "cpu": "Test CPU",
           "arch": "x86_64", "python": "3.11.7", "numpy": "2.4.6", "load_average": [1.0, 1.0, 1.0],
           "load_average_end": [2.0, 1.0, 1.0]}


def _simulator_record() -> dict:
    row = {"scenario": "divergent-1w3r", "paths": 64, "periods": 120, "nodes": 4, "skus": 1,
           "batched_s": 0.0171, "reference_paths_timed": 64, "batched_node_periods_per_s": 1.79e6,
           "reference_node_periods_per_s": 1.383e5, "ratio": 13.04, "ratio_cpu": 12.8}
    return {"name": "simulator", "command": "python bench/simulator.py --quick", "machine": MACHINE,
            "seconds": 12.3, "data": {"settings": {}, "results": [row]}}


def _known_optima_record() -> dict:
    rows = [{"policy": "base-stock", "params": {"S": [19.0]}, "cost": {"mean": 6.3118, "ci95": [6.30, 6.32]},
             "gap": 6.3118 / 6.0936 - 1, "tuning_s": 1.0},
            {"policy": "capped-base-stock", "params": {"S": [19.0], "r": [6.0]},
             "cost": {"mean": 6.1157, "ci95": [6.106, 6.125]}, "gap": 6.1157 / 6.0936 - 1, "tuning_s": 3.0}]
    scenario = {"scenario": "lost-sales-poisson", "optimum": 6.0936, "test_paths": 100, "train_paths": 20,
                "periods": 1000, "warmup": 50, "seed": 1, "seconds": 5.0, "rows": rows}
    return {"name": "known_optima", "command": "python bench/known_optima.py --paths 100", "machine": MACHINE,
            "seconds": 5.0, "data": {"scenarios": [scenario]}}


DOC = """# Title

Prose before, with a number 47.67 that must stay.

<!-- bench:simulator -->
| old | table |
|---|---|
| 1 | 2 |
<!-- /bench:simulator -->

Prose between.

- a list item:

  <!-- bench:known-optima -->
  | old indented table |
  <!-- /bench:known-optima -->

<!-- bench:zipkin -->
| zipkin | hand-written |
<!-- /bench:zipkin -->

Prose after.
"""


def _outside(text: str) -> str:
    """The text with every marked region's body removed (markers kept)."""
    return render.MARKER.sub(lambda m: f"{m['indent']}<!-- bench:{m['name']} -->", text)


def test_only_marked_regions_change_and_prose_is_kept():
    records = {"simulator": _simulator_record()}
    new = render.render_text(DOC, records, log=lambda m: None)
    assert _outside(new) == _outside(DOC)
    assert "Prose before, with a number 47.67 that must stay." in new
    assert "| old | table |" not in new
    assert "| divergent-1w3r | 64 | 4 x 1 | 0.0171 | 1.79 M | 138.3 k (64) | 13.0x | 12.8x |" in new


def test_a_region_without_its_result_file_is_left_as_it_is():
    messages = []
    new = render.render_text(DOC, {"simulator": _simulator_record()}, log=messages.append)
    assert "<!-- bench:zipkin -->\n| zipkin | hand-written |\n<!-- /bench:zipkin -->" in new
    assert "  <!-- bench:known-optima -->\n  | old indented table |\n  <!-- /bench:known-optima -->" in new
    assert any("'zipkin' left as it is" in m and "zipkin.json" in m for m in messages)


def test_the_stamp_names_command_date_commit_and_machine():
    new = render.render_text(DOC, {"simulator": _simulator_record()}, log=lambda m: None)
    line = next(x for x in new.splitlines() if "`python bench/simulator.py --quick`" in x)
    for part in ("2026-01-02 03:04 UTC", "commit abc1234", "2 CPUs (Test CPU, x86_64)", "numpy 2.4.6",
                 "12 s", "(`bench/results/simulator.json`)"):
        assert part in line


def test_an_indented_region_stays_indented():
    new = render.render_text(DOC, {"known_optima": _known_optima_record()}, log=lambda m: None)
    region = new[new.index("  <!-- bench:known-optima -->"):new.index("<!-- /bench:known-optima -->")]
    body = [line for line in region.splitlines()[1:] if line]
    assert body and all(line.startswith("  ") for line in body)
    assert "  | lost-sales-poisson | 6.0936 | capped-base-stock | S=19; r=6 | 6.1157 [6.1060, 6.1250] " \
           "| +0.36% | 3.0 |" in region


def test_rendering_twice_gives_the_same_text():
    records = {"simulator": _simulator_record(), "known_optima": _known_optima_record()}
    once = render.render_text(DOC, records, log=lambda m: None)
    assert render.render_text(once, records, log=lambda m: None) == once


def test_layers_say_not_run_without_results_and_use_hybrid_results(tmp_path):
    doc = "<!-- bench:layers -->\nold\n<!-- /bench:layers -->\n"
    records = {"known_optima": _known_optima_record()}
    new = render.render_text(doc, records, log=lambda m: None)
    row = next(x for x in new.splitlines() if x.startswith("| lost-sales-poisson"))
    assert "capped-base-stock 6.116 [6.106, 6.125] (+0.36%)" in row
    assert row.count("not run") == 3
    records["hybrid-lost-sales-poisson"] = {
        "scenario": "lost-sales-poisson", "date": "2026-01-02 05:00 UTC", "args": {"paths": 20},
        "results": [
            {"policy": "hybrid-mpc:path=runs/x/hybrid-mpc-seed0", "cost": {"mean": 6.2, "ci95": [6.1, 6.3]}},
            {"policy": "sS", "cost": {"mean": 6.3, "ci95": [6.2, 6.4]}}]}
    new = render.render_text(doc, records, log=lambda m: None)
    row = next(x for x in new.splitlines() if x.startswith("| lost-sales-poisson"))
    assert "hybrid-mpc seed 0 6.200 [6.100, 6.300] (+1.75%)" in row
    assert "sS 6.3" not in row


def test_render_reads_result_files_and_rewrites_the_doc(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    (results / "simulator.json").write_text(json.dumps(_simulator_record()))
    (results / "broken.json").write_text("{not json")
    doc = tmp_path / "BENCHMARKS.md"
    doc.write_text(DOC)
    assert render.render(doc, results, log=lambda m: None)
    text = doc.read_text()
    assert "13.0x" in text and "| zipkin | hand-written |" in text
    assert not render.render(doc, results, log=lambda m: None)  # nothing new: unchanged


@pytest.mark.parametrize("name", sorted(render.REGIONS))
def test_every_marker_in_benchmarks_md_has_a_maker(name):
    text = (ROOT / "BENCHMARKS.md").read_text()
    assert f"<!-- bench:{name} -->" in text and f"<!-- /bench:{name} -->" in text


def _claims_record(algo: str, costs: list[float]) -> dict:
    agents = [{"kind": "tune", "seed": s, "timesteps": 151552, "config": {"algo": algo},
               "held_out_cost": 10.0,
               "history": [{"timesteps": 0, "cost": 11.0}, {"timesteps": 151552, "cost": 10.0}]}
              for s in range(len(costs))]
    results = [{"policy": f"rl-tune seed {s}", "cost_per_period": {"mean": c, "ci95": [c - 1, c + 1]}}
               for s, c in enumerate(costs)]
    results.append({"policy": "sS (tuned)", "cost_per_period": {"mean": 100.0, "ci95": [99.0, 101.0]}})
    report = {"scenario": "rl-divergent-1w2r-ns", "test_paths": 20, "test_seed": 2026, "train_paths": 10,
              "agents": agents, "results": results,
              "summary": {"tune": {"mean": -10.0, "relative": -0.1, "across_seeds_ci95": [-12.0, -8.0],
                                   "all_seeds_exclude_zero": True}}}
    return {"name": "rl_experiments", "command": "python bench/rl_experiments.py", "machine": MACHINE,
            "seconds": 1.0, "data": {"runs": [report]}}


def test_the_claims_table_has_one_row_per_algorithm_with_the_claim_and_the_kept_model():
    doc = "<!-- bench:rl-claims-a3c -->\nold\n<!-- /bench:rl-claims-a3c -->\n"
    records = {"rl-claims-1w2r": _claims_record("ppo", [90.0, 89.0, 91.0]),
               "rl-claims-1w2r-a2c": _claims_record("a2c", [95.0, 94.0, 96.0])}
    new = render.render_text(doc, records, log=lambda m: None)
    rows = [x for x in new.splitlines() if x.startswith("| `rl-divergent-1w2r-ns`")]
    assert len(rows) == 2
    assert "A3C -21.79%" in rows[0] and "PPO TuneEnv, 151k steps" in rows[0] and "A2C TuneEnv" in rows[1]
    assert "90.00 / 89.00 / 91.00" in rows[0] and "151552 / 151552 / 151552" in rows[0]
    assert "-10.00 [-12.00, -8.00] (-10.00%)" in rows[0] and "| yes |" in rows[0]


def _zipkin_record(layers: bool = True) -> dict:
    """Two instances (L = 1 and 2, p = 9); with ``layers`` the SAA level and an agent on each."""
    instances = []
    for L, opt, grid, saa, agent in ((1, 5.0, 5.05, 5.5, 5.02), (2, 6.0, 6.06, 6.3, 6.09)):
        policies = [{"policy": "base-stock", "params": {"S": [19.0]}, "cost": saa,
                     "ci95": [saa - .01, saa + .01], "gap": saa / opt - 1, "tuning_s": 1.0},
                    {"policy": "capped-base-stock (grid)", "params": {"S": [19.0], "r": [6.0]}, "cost": grid,
                     "ci95": [grid - .01, grid + .01], "gap": grid / opt - 1, "tuning_s": 1.0}]
        inst = {"lead_time": L, "penalty": 9.0, "optimum": {"cost": opt}, "policies": policies}
        if layers:
            inst["saa"] = {"policy": "saa base-stock", "levels": [19.0], "exact": False, "cost": saa,
                           "ci95": [saa - .01, saa + .01], "gap": saa / opt - 1}
            inst["rl"] = {"policy": "rl-tune seed 0", "seed": 0, "steps": 401408, "cost": agent,
                          "ci95": [agent - .01, agent + .01], "gap": agent / opt - 1}
        instances.append(inst)
    return {"name": "zipkin", "command": "python bench/zipkin.py --saa --rl", "machine": MACHINE,
            "seconds": 9.0, "data": {"paths": 100, "train_paths": 20, "seed": 1, "instances": instances}}


def _hybrid_record(cost: float) -> dict:
    return {"scenario": "lost-sales-poisson", "date": "2026-01-02 05:00 UTC", "args": {"paths": 20},
            "results": [{"policy": "hybrid-mpc:path=runs/x/hybrid-mpc-seed0", "cost": {"mean": cost}}]}


def test_the_zipkin_table_has_saa_and_rl_columns_when_they_ran():
    doc = "<!-- bench:zipkin -->\nold\n<!-- /bench:zipkin -->\n"
    new = render.render_text(doc, {"zipkin": _zipkin_record()}, log=lambda m: None)
    assert "| best classical gap | SAA base-stock (MILP, approx.) | RL (PPO TuneEnv) |" in new
    assert "| **+1.00%** | 5.5000 (S=19) +10.00% | 5.0200 +0.40% |" in new
    assert "approximation for lost sales" in new and "401k steps, seed 0" in new
    plain = render.render_text(doc, {"zipkin": _zipkin_record(layers=False)}, log=lambda m: None)
    assert "SAA" not in plain and "RL (" not in plain
    assert "| best classical gap |\n" in plain


def test_the_zipkin_layer_row_gives_the_range_of_gaps_per_layer():
    doc = "<!-- bench:layers -->\nold\n<!-- /bench:layers -->\n"
    records = {"known_optima": _known_optima_record(), "zipkin": _zipkin_record()}
    new = render.render_text(doc, records, log=lambda m: None)
    row = next(x for x in new.splitlines() if x.startswith("| Zipkin table (2 instances)"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2] == "capped-base-stock: +1.00% to +1.00% (median +1.00%), see the Zipkin table"
    assert cells[3] == "`milp-static` SAA base-stock, approximate for lost sales: +5.00% to +10.00% " \
                       "(median +7.50%)"
    assert cells[4] == "TuneEnv agents (401k steps, seed 0): +0.40% to +1.50% (median +0.95%)"
    assert cells[5] == "not run"
    records["hybrid-lost-sales-poisson"] = _hybrid_record(6.0936 * 1.0474)
    row = next(x for x in render.render_text(doc, records, log=lambda m: None).splitlines()
               if x.startswith("| Zipkin table"))
    assert "| not run; see lost-sales-poisson (+4.74%) |" in row
    records["zipkin"] = _zipkin_record(layers=False)
    row = next(x for x in render.render_text(doc, records, log=lambda m: None).splitlines()
               if x.startswith("| Zipkin table"))
    assert row.count("not run") == 3  # MILP, RL and hybrid (with its pointer)


def test_the_zipkin_layer_row_says_how_many_instances_a_layer_covers():
    record = _zipkin_record()
    del record["data"]["instances"][0]["rl"]
    new = render.render_text("<!-- bench:layers -->\nold\n<!-- /bench:layers -->\n",
                             {"known_optima": _known_optima_record(), "zipkin": record}, log=lambda m: None)
    assert "TuneEnv agents (401k steps, seed 0, 1 of 2 instances): +1.50% to +1.50%" in new
    zipkin = render.render_text("<!-- bench:zipkin -->\nold\n<!-- /bench:zipkin -->\n", {"zipkin": record},
                                log=lambda m: None)
    assert "| 5.5000 (S=19) +10.00% | not run |" in zipkin


def _stockpyl_record(rl: bool = True) -> dict:
    """example_6_1 and problem_6_1 with the tuner and SAA rows; with ``rl`` an agent on each."""
    instances = []
    for name, stages, C, tuner, saa, agent in (("example_6_1", 3, 47.6654, 47.684, 47.689, 47.70),
                                               ("problem_6_1", 2, 166.2705, 166.405, 166.399, 166.5)):
        row = {"instance": name, "stages": stages, "C_star": C, "within_ci": True,
               "cost_at_S_star": {"mean": C, "ci95": [C - 0.1, C + 0.1]}}
        for key, cost in (("tuner", tuner), ("saa", saa)):
            row[key] = {"cost": {"mean": cost, "ci95": [cost - .1, cost + .1]},
                        "minus_S_star": {"mean": 0.01, "ci95": [0.0, 0.02]}, "gap_to_C_star": cost / C - 1}
        if rl:
            row["rl"] = {"policy": "rl-tune seed 0", "seed": 0, "steps": 102400,
                         "cost": {"mean": agent, "ci95": [agent - .1, agent + .1]},
                         "minus_S_star": {"mean": 0.02, "ci95": [0.01, 0.03]},
                         "minus_tuner": {"mean": 0.01, "ci95": [0.0, 0.02]}, "gap_to_C_star": agent / C - 1}
        instances.append(row)
    summary = {"max_rel_cost_diff": 0.0008, "speedup_1024": 2668.0}
    return {"name": "peers_stockpyl", "command": "python bench/peers_stockpyl.py --rl", "machine": MACHINE,
            "seconds": 200.0, "data": {"summary": summary, "skipped": None, "paths": 100, "train_paths": 20,
                                       "seed": 1, "instances": instances, "speed": []}}


def test_the_stockpyl_table_has_an_rl_column_when_agents_ran():
    doc = "<!-- bench:peers-stockpyl -->\nold\n<!-- /bench:peers-stockpyl -->\n"
    new = render.render_text(doc, {"peers_stockpyl": _stockpyl_record()}, log=lambda m: None)
    assert "| SAA: cost, minus S\\* (paired) | RL (PPO TuneEnv): cost, minus S\\* (paired) |" in new
    assert "| 47.689, +0.0100 [+0.0000, +0.0200] | 47.700, +0.0200 [+0.0100, +0.0300] |" in new
    assert "RL: one PPO TuneEnv agent per instance (102k steps, seed 0; the settings " \
           "`bench/rl_experiments.py` uses for `serial-3`)" in new
    record = _stockpyl_record()
    del record["data"]["instances"][1]["rl"]
    new = render.render_text(doc, {"peers_stockpyl": record}, log=lambda m: None)
    assert "| 166.399, +0.0100 [+0.0000, +0.0200] | not run |" in new
    plain = render.render_text(doc, {"peers_stockpyl": _stockpyl_record(rl=False)}, log=lambda m: None)
    assert "RL" not in plain and "| SAA: cost, minus S\\* (paired) |\n" in plain


def _hybrid_serial_record(scenario: str = "serial-3") -> dict:
    return {"scenario": scenario, "date": "2026-01-02 05:00 UTC", "args": {"paths": 20},
            "results": [{"policy": "hybrid-mpc:path=runs/x/hybrid-mpc-seed0", "cost": {"mean": 60.912}},
                        {"policy": "sS", "cost": {"mean": 47.45}}]}


def test_the_stockpyl_layer_rows_fill_rl_and_point_example_6_1_to_the_serial_3_hybrid():
    doc = "<!-- bench:layers -->\nold\n<!-- /bench:layers -->\n"
    known = _known_optima_record()
    serial = {**known["data"]["scenarios"][0], "scenario": "serial-3", "optimum": 47.67}
    known["data"]["scenarios"].append(serial)
    records = {"known_optima": known, "peers_stockpyl": _stockpyl_record()}

    def cells(name: str) -> list[str]:
        text = render.render_text(doc, records, log=lambda m: None)
        row = next(x for x in text.splitlines() if x.startswith(f"| stockpyl `{name}`"))
        return [c.strip() for c in row.strip("|").split("|")]

    assert cells("example_6_1")[4] == "TuneEnv agent (102k steps, seed 0) 47.700 [47.600, 47.800] (+0.07%)"
    assert cells("problem_6_1")[4] == "TuneEnv agent (102k steps, seed 0) 166.500 [166.400, 166.600] (+0.14%)"
    assert cells("example_6_1")[5] == cells("problem_6_1")[5] == "not run"
    records["hybrid-serial-3"] = _hybrid_serial_record()
    assert cells("example_6_1")[5] == "not run; see serial-3, the same system (+27.78%)"
    assert cells("problem_6_1")[5] == "not run"
    records["hybrid-serial-3"] = _hybrid_serial_record("lost-sales-poisson")  # a record of another scenario
    assert cells("example_6_1")[5] == "not run"
    records["hybrid-serial-3"] = _hybrid_serial_record()
    records["peers_stockpyl"] = _stockpyl_record(rl=False)
    assert cells("example_6_1")[4] == "not run"
