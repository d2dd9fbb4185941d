"""The HTML page: header, one section per scenario (verdict, table, plots with captions), inline CSS."""

from __future__ import annotations

import html
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hybrid.report.estimates import Estimate, finite
from hybrid.report.formatting import diff_decimals, diff_text, num, pct, seconds_text
from hybrid.report.plots import (
    cost_breakdown,
    gap_plot,
    learning_plot,
    plot_style,
    service_vs_cost,
    trajectory_plot,
)
from hybrid.report.reading import PolicySummary, ScenarioSummary, summarise_scenarios

_CSS = """
:root { --ink:#1d2430; --muted:#5f6b7a; --line:#e3e7ec; --accent:#0b63a8; --bg:#ffffff;
        --soft:#f6f8fa; --good:#1a7f37; --bad:#b42318; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1080px; margin: 0 auto; padding: 28px 32px 64px; }
header { border-bottom: 1px solid var(--line); padding-bottom: 14px; margin-bottom: 8px; }
h1 { font-size: 26px; margin: 0 0 4px; letter-spacing: -0.01em; }
h2 { font-size: 21px; margin: 40px 0 6px; padding-top: 12px; border-top: 3px solid var(--ink); }
h3 { font-size: 16px; margin: 28px 0 6px; }
p { margin: 6px 0; }
.lede { color: var(--muted); margin: 0 0 10px; max-width: 80ch; }
.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; font-size: 13.5px;
        color: var(--muted); margin: 0; }
.meta dt { font-weight: 600; color: var(--ink); }
.meta dd { margin: 0; overflow-wrap: anywhere; }
code { font: 12.5px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
       background: var(--soft); padding: 1px 4px; border-radius: 3px; }
nav { font-size: 14px; margin: 12px 0 0; }
nav a { margin-right: 14px; }
a { color: var(--accent); text-decoration: none; }
a:hover { text-decoration: underline; }
.verdict { font-size: 15px; margin: 10px 0 4px; max-width: 95ch; }
.note { color: var(--muted); font-size: 13.5px; max-width: 85ch; }
.caption { color: var(--muted); font-size: 13px; margin: 2px 0 10px; max-width: 90ch; }
table { border-collapse: collapse; width: 100%; font-size: 14px; margin: 8px 0 4px;
        font-variant-numeric: tabular-nums; }
th { text-align: right; font-weight: 600; color: var(--muted); font-size: 12.5px; white-space: nowrap;
     border-bottom: 2px solid var(--ink); padding: 6px 10px; vertical-align: bottom; }
td { text-align: right; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top;
     white-space: nowrap; }
th:first-child, td:first-child { text-align: left; white-space: normal; min-width: 210px; max-width: 330px; }
tbody tr:hover { background: var(--soft); }
tr.best td { background: #eef6ee; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 7px; }
.policy { font-weight: 600; white-space: nowrap; }
.params { display: block; color: var(--muted); font-size: 12px; font-weight: 400; margin-left: 17px;
          overflow-wrap: anywhere; }
.ci { color: var(--muted); font-size: 12.5px; }
.badge { font-size: 11px; font-weight: 600; color: var(--good); border: 1px solid var(--good);
         border-radius: 3px; padding: 0 4px; margin-left: 6px; }
.sig { color: var(--bad); }
.ns { color: var(--muted); }
figure { margin: 8px 0 4px; overflow-x: auto; }
.scroll { overflow-x: auto; }
figure img { max-width: 100%; height: auto; display: block; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
footer { margin-top: 48px; border-top: 1px solid var(--line); padding-top: 10px; color: var(--muted);
         font-size: 12.5px; }
"""


def _e(text: Any) -> str:
    return html.escape(str(text))


def _breakable(name: str) -> str:
    """A policy name for HTML that may wrap after ``:``, ``,`` or ``/`` (long model paths)."""
    return "".join(_e(c) + ("<wbr>" if c in ":,/" else "") for c in name)


def _value_text(value: Any) -> str:
    """A parameter value: numbers to 4 significant digits, lists comma-separated."""
    if isinstance(value, list | tuple):
        return ", ".join(_value_text(v) for v in value)
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _params_text(p: PolicySummary, limit: int = 110) -> str:
    """The parameters the policy ran with, on one short line (nested ones flattened: ``anchor.s``)."""
    if p.params_vary:
        return "parameters tuned per seed"

    def flat(params: dict[str, Any], prefix: str = "") -> Iterable[str]:
        for k, v in params.items():
            if isinstance(v, dict):
                yield from flat(v, f"{prefix}{k}.")
            else:
                yield f"{prefix}{k} = {_value_text(v)}"

    text = "; ".join(flat(p.params))
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _ci(est: Estimate, fmt: Any = num) -> str:
    if not est.has_ci:
        return ""
    return f'<br><span class="ci">{fmt(est.low)} … {fmt(est.high)}</span>'


def _table(sc: ScenarioSummary) -> str:
    bounded = sc.bounded
    head = ["policy", "seeds × paths", "cost per period<br>mean, 95% CI",
            "vs best, paired<br>difference, 95% CI", "fill rate<br>mean, 95% CI"]
    if bounded:
        head.append("gap to<br>hindsight bound")
    head.append("run time<br>per seed")
    rows = []
    tied = sc.tied
    badge = "tied" if tied else "best"  # the cheapest is the best only if no other is as cheap
    for p in sc.policies:
        seeds = p.seeds
        seeds_text = (f"{len(seeds)} × {p.paths // max(len(p.runs), 1):,}" if len(set(
            r["paths"] for r in p.runs)) == 1 else f"{len(seeds)} seeds, {p.paths:,} paths")
        name = (f'<span class="swatch" style="background:{sc.colour(p.name)}"></span>'
                f'<span class="policy">{_breakable(p.name)}</span>'
                + (f'<span class="badge">{badge}</span>' if p is sc.best or p in tied else "")
                + (f'<span class="params">{_e(_params_text(p))}</span>' if _params_text(p) else ""))
        if p is sc.best:
            diff = '<span class="ns">reference</span>'
        elif p.diff is None:
            diff = f'<span class="ns" title="{_e(p.diff_note)}">–</span>'
        else:
            rel = p.diff.mean / sc.best.cost.mean if sc.best.cost.mean else math.nan
            cls = "sig" if p.diff.excludes_zero else "ns"
            places = diff_decimals(p.diff)
            diff = (f'<span class="{cls}" title="{_e(p.diff_note)}">'
                    f"{diff_text(p.diff.mean, places)} ({pct(rel, True)})</span>"
                    + _ci(p.diff, lambda x, places=places: diff_text(x, places))
                    + ("" if p.diff.has_ci else f'<br><span class="ci">{_e(p.diff_note)}</span>'))
        cells = [name, seeds_text, f"<b>{num(p.cost.mean)}</b>{_ci(p.cost)}", diff,
                 f"{pct(p.fill.mean)}{_ci(p.fill, pct)}"]
        if bounded:
            cells.append(f"{pct(p.gap.mean, True)}{_ci(p.gap, lambda x: pct(x, True))}"
                         if finite(p.gap.mean) else "–")
        cells.append(seconds_text(p.seconds))
        cls = ' class="best"' if p is sc.best or p in tied else ""
        rows.append(f"<tr{cls}>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return ('<div class="scroll"><table><thead><tr>' + "".join(f"<th>{h}</th>" for h in head)
            + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>")


def _diff_note(sc: ScenarioSummary) -> str:
    notes = {p.diff_note for p in sc.policies[1:] if p.diff is not None}
    how = []
    if "paired over paths" in notes:
        how.append("path by path, on common random numbers")
    seeds = sorted(int(n.split()[2]) for n in notes if n.startswith("paired over") and "seeds" in n)
    if seeds:
        how.append(f"seed by seed, with an interval over {_ranges(sorted(set(seeds)))} seeds")
    if "one seed: no interval" in notes:
        how.append("from one seed's means, so without an interval")
    if not how:
        return ""
    return (f"Paired difference: each policy's cost per period minus that of {_e(sc.best.name)}, the "
            f"cheapest, on the same sample paths ({_e('; '.join(how))}); shown in "
            "<span class='sig'>red</span> when its 95% interval excludes zero"
            + ("; the policies marked <i>tied</i> are not distinguishable from it (their interval "
               "includes zero)." if sc.tied else "."))


def _verdict(sc: ScenarioSummary) -> str:
    """One sentence: the cheapest policy (and those tied with it) and how far the next is behind."""
    best, tied = sc.best, sc.tied
    text = (f"Cheapest: <b>{_e(best.name)}</b> at {num(best.cost.mean)} per period"
            + (f", fill rate {pct(best.fill.mean)}" if finite(best.fill.mean) else ""))
    if tied:
        names = [f"<b>{_e(p.name)}</b>" for p in tied]
        text = (f"No single cheapest policy: <b>{_e(best.name)}</b> ({num(best.cost.mean)} per period) is "
                f"tied with {', '.join(names[:-1]) + ' and ' if len(names) > 1 else ''}{names[-1]} "
                "(the paired 95% interval of each difference includes zero)")
    rest = [p for p in sc.policies[1:] if p not in tied]
    if not rest:
        return text + "."
    second = rest[0]
    d = second.diff
    if d is None or not finite(d.mean):
        return text + f"; next: {_e(second.name)} at {num(second.cost.mean)}."
    rel = d.mean / best.cost.mean if best.cost.mean else math.nan
    if d.excludes_zero:
        verdict = "a significant difference (the paired 95% interval excludes zero)"
    elif d.has_ci:
        verdict = "not a significant difference (the paired 95% interval includes zero)"
    else:
        verdict = "with no paired interval to judge it by (runs on more seeds give one)"
    return text + (f"; next: {_e(second.name)}, {diff_text(d.mean, diff_decimals(d))} "
                   f"({pct(rel, True)}) per period, {verdict}.")


def _section(sc: ScenarioSummary, store: Any, anchor: str) -> str:
    out = [f'<section id="{anchor}"><h2>{_e(sc.name)}</h2>']
    periods = sorted({r["periods"] for p in sc.policies for r in p.runs})
    seeds = sorted({r["seed"] for p in sc.policies for r in p.runs})
    out.append(f'<p class="note">{len(sc.policies)} policies · seeds {_e(_ranges(seeds))} · '
               f'{_e(", ".join(map(str, periods)))} measured periods per path · costs per period, '
               "mean over every test path of every seed with its 95% confidence interval.</p>")
    out.append(f'<p class="verdict">{_verdict(sc)}</p>')
    out.append(_table(sc))
    note = _diff_note(sc)
    if note:
        out.append(f'<p class="caption">{note}</p>')
    if sc.bounded:
        bounds = [p.bound for p in sc.policies if finite(p.bound)]
        out.append(f'<p class="caption">Hindsight bound: {num(sum(bounds) / len(bounds))} per period '
                   "(perfect information on each path, warm-up included): a lower bound on any "
                   "policy's cost on the same paths.</p>")
    with plot_style():
        out.append("<h3>Cost breakdown</h3>")
        out.append(f"<figure>{cost_breakdown(sc)}</figure>")
        out.append('<p class="caption">Mean cost per period by part; the number is the total '
                   "(net of revenue).</p>")
        out.append("<h3>Service level against cost</h3>")
        img, shifted = service_vs_cost(sc)
        out.append(f"<figure>{img}</figure>")
        out.append('<p class="caption">One point per policy, bars are 95% confidence intervals; '
                   "better policies sit towards the top left."
                   + (f" {_e(', '.join(shifted))} lie on the same point: their markers are drawn "
                      "side by side, a few pixels apart." if shifted else "") + "</p>")
        out.append("<h3>Gap to the hindsight bound</h3>")
        if sc.bounded:
            out.append(f"<figure>{gap_plot(sc)}</figure>")
            missing = [p.name for p in sc.policies if not finite(p.gap.mean)]
            out.append('<p class="caption">Cost per period over all periods (warm-up included) '
                       "above the perfect-information bound on the same paths."
                       + (f" Run without the bound, so not shown: {_e(', '.join(missing))}." if missing
                          else "") + "</p>")
        else:
            out.append('<p class="note">No hindsight bound was computed for these runs, so there is '
                       "no gap to show (ask the batch for the bound to see one).</p>")
        out.append("<h3>Inventory and orders on a sample path</h3>")
        img, caption = trajectory_plot(sc, store)
        if img:
            out.append(f"<figure>{img}</figure>")
        out.append(f'<p class="{"caption" if img else "note"}">{_e(caption)}</p>')
        curves = learning_plot(sc, store)
        if curves:
            out.append("<h3>Learning curves</h3>")
            out.append(f"<figure>{curves}</figure>")
            out.append('<p class="caption">Cost per period of each agent during training, one panel '
                       "per agent on its own axes: an RL agent evaluated on held-out paths, a hybrid "
                       "agent on its training episodes (its steps are epochs, not periods); the dotted "
                       "line is the anchor policy it learns around.</p>")
    out.append("</section>")
    return "\n".join(out)


def _ranges(values: Sequence[int]) -> str:
    """``[0, 1, 2, 5]`` -> ``"0–2, 5"``."""
    out, start, prev = [], None, None
    for v in values:
        if start is None:
            start = prev = v
        elif v == prev + 1:
            prev = v
        else:
            out.append(f"{start}–{prev}" if prev != start else str(start))
            start = prev = v
    if start is not None:
        out.append(f"{start}–{prev}" if prev != start else str(start))
    return ", ".join(out)


def _versions(runs: list[dict[str, Any]]) -> str:
    seen: dict[str, set[str]] = defaultdict(set)
    for r in runs:
        versions = r.get("versions") or {}
        if isinstance(versions, str):
            versions = json.loads(versions)
        for k, v in versions.items():
            seen[k].add(str(v))
    if not seen:
        return "not recorded"
    return " · ".join(f"{_e(k)} {_e(' / '.join(sorted(v)))}" for k, v in sorted(seen.items()))


def render_page(db_path: Path, store: Any, title: str | None) -> str:
    """The whole HTML page of the runs in ``store`` (read from ``db_path``), plots embedded."""
    runs = store.runs()
    scenarios = summarise_scenarios(runs, store.path_costs())
    created = [r["created"] for r in runs if r.get("created") is not None]
    when = (f"{min(created):%Y-%m-%d %H:%M} – {max(created):%Y-%m-%d %H:%M} UTC" if created
            else "not recorded")
    title = title or f"echelon report · {db_path.name}"
    anchors = [f"s{i}-" + "".join(c if c.isalnum() else "-" for c in sc.name)
               for i, sc in enumerate(scenarios)]
    nav = ("<nav>" + "".join(f'<a href="#{a}">{_e(sc.name)}</a>' for a, sc in
                             zip(anchors, scenarios, strict=True)) + "</nav>") if len(scenarios) > 1 else ""
    header = f"""<header>
<h1>{_e(title)}</h1>
<p class="lede">Replenishment policies compared on common random numbers: every policy of a scenario
ran on the same sample paths for a seed, so differences between them are paired.</p>
<dl class="meta">
<dt>database</dt><dd><code>{_e(db_path.resolve())}</code></dd>
<dt>contents</dt><dd>{len(runs)} runs · {len(scenarios)} scenario{"s" if len(scenarios) != 1 else ""}</dd>
<dt>runs made</dt><dd>{_e(when)}</dd>
<dt>report made</dt><dd>{datetime.now(UTC):%Y-%m-%d %H:%M} UTC</dd>
<dt>versions</dt><dd>{_versions(runs)}</dd>
</dl>
{nav}
</header>"""
    sections = [_section(sc, store, a) for sc, a in zip(scenarios, anchors, strict=True)]
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
{header}
{"".join(sections)}
<footer>Made by <code>echelon report</code> from <code>{_e(db_path.name)}</code>. Self-contained:
plots are embedded PNG images, no external resources.</footer>
</main>
</body>
</html>
"""
