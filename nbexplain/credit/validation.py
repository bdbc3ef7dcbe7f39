"""The validation report a model validator files for adverse-action reasons.

For a set of denied applicants it measures what Pace (2023) asks lenders to support with
evidence, each as a share of applicants:

* completeness: the distribution of ``|sum_e A_e - (f(x) - f(b))|`` at the chosen steps;
* steps: how often the top reason (and the set of stated reasons) changes when the steps double;
* reference sample: how often they change when the baseline's reference rows are redrawn;
* baselines: how often the documented baselines agree on the top reason and on the stated set;
* prohibited bases: how many applicants' scores lean materially on one.

:func:`validate_reasons` returns a :class:`ReasonValidation`, written as JSON (the record) and
HTML (to read and file).
"""

from __future__ import annotations

import datetime
import html
from dataclasses import dataclass

import numpy as np

from .._version import __version__
from ..results.serial import dump_json, save_text, to_jsonable
from .reasons import reasons_from_attributions

COMPLETENESS_BINS = tuple(10.0**k for k in range(-10, 1))


def reason_changes(first, second) -> dict:
    """Shares of applicants whose top reason, stated set, or ordered list differs between two
    :class:`~nbexplain.credit.RankedReasons` of the same applicants."""
    top_first, top_second = first.order[:, 0], second.order[:, 0]
    sets = [a != b for a, b in zip(first.top_sets(), second.top_sets())]
    ordered = np.any(first.order != second.order, axis=1)
    return {
        "top_reason_changed": float(np.mean(top_first != top_second)),
        "reason_set_changed": float(np.mean(sets)),
        "order_changed": float(np.mean(ordered)),
        "applicants": int(len(top_first)),
    }


def completeness_distribution(attributions) -> dict:
    """The result's completeness summary plus a histogram over decades (1e-10 .. 1)."""
    errors = attributions.completeness_error
    counts = np.histogram(np.clip(errors, COMPLETENESS_BINS[0], COMPLETENESS_BINS[-1]), bins=COMPLETENESS_BINS)[0]
    return {
        **attributions.completeness_summary(),
        "histogram": {"edges": list(COMPLETENESS_BINS), "counts": counts.tolist()},
    }


@dataclass(frozen=True)
class ReasonValidation:
    """The report: a JSON-able record with an HTML rendering."""

    record: dict

    def to_dict(self) -> dict:
        return to_jsonable(self.record)

    def to_json(self, path=None) -> str:
        return dump_json(self.to_dict(), path, indent=2)

    def to_html(self, path=None) -> str:
        return save_text(render_html(self.to_dict()), path)


def validate_reasons(
    reasons, applicants, *, baselines=None, redraws: int = 3, seed: int = 0, progress: bool = True
) -> ReasonValidation:
    """Validate a :class:`~nbexplain.credit.adverse.ReasonRecipe` on denied ``applicants``.

    ``baselines``: ``{name: Baseline}`` documented alternatives to compare the stated reasons
    across (the explainer's own baseline is always the first). ``redraws``: how many fresh
    draws of the baseline's reference rows to compare with.
    """
    from tqdm.auto import tqdm

    explainer = reasons.explainer
    redrawable = reasons.baseline.redrawn(seed + 1) is not reasons.baseline
    runs = 2 + (redraws if redrawable else 0) + len(baselines or {})
    bar = tqdm(total=runs, desc="reason validation", unit="run", disable=not progress)

    def run(recipe):
        attributions = recipe.attributions(applicants)

        ranked = reasons_from_attributions(attributions, recipe.catalogue, recipe.max_reasons, recipe.elements)
        bar.update()
        return attributions, ranked

    attributions, ranked = run(reasons)
    denied = reasons.denied(attributions.score)
    steps = explainer.steps
    doubled = (
        explainer.with_params(steps=2 * steps)
        if steps != "auto"
        else explainer.with_params(tolerance=explainer.tolerance / 10)
    )
    _, ranked_doubled = run(reasons.with_params(explainer=doubled))
    stability_steps = {
        "steps": steps,
        "compared_with": 2 * steps if steps != "auto" else f"auto, tolerance {explainer.tolerance / 10:g}",
        **reason_changes(ranked, ranked_doubled),
    }

    redrawn = []
    if not redrawable:
        redraw_note = "not applicable: this baseline is not drawn from reference rows"
    else:
        redraw_note = "fresh seeded draws (a bootstrap resample when the baseline used all reference rows)"
        for r in range(redraws):
            _, other = run(reasons.with_params(baseline=reasons.baseline.redrawn(seed + 1 + r)))
            redrawn.append({"seed": seed + 1 + r, **reason_changes(ranked, other)})

    named = {f"{reasons.baseline.kind} (chosen)": (attributions, ranked)}
    for name, baseline in (baselines or {}).items():
        named[name] = run(reasons.with_params(baseline=baseline))
    bar.close()
    names = list(named)
    agreement = {
        "baselines": names,
        "top_reason_agrees": [
            [1 - reason_changes(named[a][1], named[b][1])["top_reason_changed"] for b in names] for a in names
        ],
        "reason_set_agrees": [
            [1 - reason_changes(named[a][1], named[b][1])["reason_set_changed"] for b in names] for a in names
        ],
        "descriptions": {name: dict(named[name][0].meta["baseline"]) for name in names},
        "completeness_max": {name: float(named[name][0].completeness_error.max()) for name in names},
    }

    codes = list(reasons.catalogue.codes)
    top = ranked.order[:, 0]
    frequency = {code: int(np.sum(top == i)) for i, code in enumerate(codes)}
    frequency["(none)"] = int(np.sum(top < 0))
    record = {
        "title": "Adverse-action reason validation",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "nbexplain_version": __version__,
        "model_fingerprint": attributions.meta.get("model_fingerprint"),
        "explained": attributions.meta.get("explained"),
        "method": {
            "name": attributions.meta.get("method"),
            "rule": attributions.meta.get("rule"),
            "steps": steps,
            "tolerance": attributions.meta.get("tolerance"),
        },
        "baseline": dict(attributions.meta["baseline"]),
        "catalogue": reasons.catalogue.to_dict(),
        "cutoff": reasons.cutoff,
        "max_reasons": reasons.max_reasons,
        "applicants": int(len(top)),
        "denied_at_cutoff": int(denied.sum()),
        "completeness": completeness_distribution(attributions),
        "steps_doubled": stability_steps,
        "reference_redrawn": {
            "method": redraw_note,
            "runs": redrawn,
            **(
                {
                    "top_reason_changed": float(np.mean([r["top_reason_changed"] for r in redrawn])),
                    "reason_set_changed": float(np.mean([r["reason_set_changed"] for r in redrawn])),
                }
                if redrawn
                else {}
            ),
        },
        "across_baselines": agreement,
        "top_reason_frequency": frequency,
        "prohibited_bases": {
            "features": list(reasons.catalogue.prohibited),
            "materiality": reasons.catalogue.materiality,
            "applicants_material": int(ranked.material.sum()),
        },
    }
    return ReasonValidation(record)


def _table(header, rows) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _share(value) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f} %"


def _histogram_svg(histogram) -> str:
    counts, edges = histogram["counts"], histogram["edges"]
    top = max(max(counts), 1)
    width, height, bar = 440, 140, 440 / len(counts)
    bars = []
    for i, count in enumerate(counts):
        h = 110 * count / top
        bars.append(
            f'<rect x="{i * bar + 2:.1f}" y="{115 - h:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" '
            f'fill="#2e6da4"><title>{count} applicants in [{edges[i]:.0e}, {edges[i + 1]:.0e})</title></rect>'
            f'<text x="{i * bar + bar / 2:.1f}" y="130" font-size="9" text-anchor="middle">'
            f"1e{int(np.log10(edges[i]))}</text>"
        )
    label = "completeness error histogram"
    return f'<svg width="{width}" height="{height}" role="img" aria-label="{label}">{"".join(bars)}</svg>'


def render_html(record: dict) -> str:
    """A self-contained HTML page of the report (no scripts, no external files)."""
    completeness = record["completeness"]
    steps = record["steps_doubled"]
    redrawn = record["reference_redrawn"]
    across = record["across_baselines"]
    baseline = record["baseline"]
    sections = [
        f"<h1>{html.escape(record['title'])}</h1>",
        _table(
            ["item", "value"],
            [
                ["created (UTC)", record["created"]],
                ["nbexplain", record["nbexplain_version"]],
                ["model fingerprint", record["model_fingerprint"]],
                ["score explained", record["explained"]],
                [
                    "method",
                    f"{record['method']['name']}, rule {record['method']['rule']}, steps {record['method']['steps']}",
                ],
                ["baseline", f"{baseline.get('kind')}: {baseline.get('statement')}"],
                ["baseline score", f"{baseline.get('baseline_score', float('nan')):.6g}"],
                ["cut-off", record["cutoff"]],
                ["applicants validated", record["applicants"]],
                ["reasons per applicant (max)", record["max_reasons"]],
            ],
        ),
        "<h2>1. Completeness</h2><p>|sum of attributions - (score - baseline score)| per applicant.</p>",
        _table(
            ["max", "p99", "p90", "median", "mean"],
            [[f"{completeness[k]:.3g}" for k in ("max", "p99", "p90", "median", "mean")]],
        ),
        _histogram_svg(completeness["histogram"]),
        "<h2>2. Stability when the steps double</h2>",
        _table(
            ["steps", "compared with", "top reason changed", "stated set changed", "order changed"],
            [
                [
                    steps["steps"],
                    steps["compared_with"],
                    _share(steps["top_reason_changed"]),
                    _share(steps["reason_set_changed"]),
                    _share(steps["order_changed"]),
                ]
            ],
        ),
        "<h2>3. Stability when the reference sample is redrawn</h2>",
        f"<p>{html.escape(redrawn['method'])}</p>",
        _table(
            ["seed", "top reason changed", "stated set changed", "order changed"],
            [
                [
                    r["seed"],
                    _share(r["top_reason_changed"]),
                    _share(r["reason_set_changed"]),
                    _share(r["order_changed"]),
                ]
                for r in redrawn["runs"]
            ],
        )
        if redrawn["runs"]
        else "",
        "<h2>4. Agreement across documented baselines</h2><p>Share of applicants with the same top reason "
        "(the same stated set in brackets).</p>",
        _table(
            ["", *across["baselines"]],
            [
                [a, *[f"{_share(t)} ({_share(s)})" for t, s in zip(top_row, set_row)]]
                for a, top_row, set_row in zip(
                    across["baselines"], across["top_reason_agrees"], across["reason_set_agrees"]
                )
            ],
        ),
        _table(
            ["baseline", "statement", "baseline score", "max completeness error"],
            [
                [
                    name,
                    d.get("statement", ""),
                    f"{d.get('baseline_score', float('nan')):.4g}",
                    f"{across['completeness_max'][name]:.3g}",
                ]
                for name, d in across["descriptions"].items()
            ],
        ),
        "<h2>5. Top reasons given</h2>",
        _table(["reason", "applicants with it first"], list(record["top_reason_frequency"].items())),
        "<h2>6. Prohibited bases</h2>",
        f"<p>Never stated as reasons: {html.escape(', '.join(record['prohibited_bases']['features']) or 'none')}. "
        f"Applicants whose score leans materially on one (share >= {record['prohibited_bases']['materiality']:.0%} "
        f"of the total attribution, or above a stated reason): "
        f"<b>{record['prohibited_bases']['applicants_material']}</b>.</p>",
    ]
    style = (
        "body{font-family:sans-serif;max-width:980px;margin:24px auto;color:#222}table{border-collapse:collapse;"
        "margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}"
        "th{background:#f3f3f3}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(record['title'])}</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>"
    )
