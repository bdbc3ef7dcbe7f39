"""The validation report a model validator files for adverse-action reasons.

It stands on its own: someone who never ran the command opens the HTML (or reads the JSON) years
later and finds what was validated (the input file, its checksum, its rows and which of them were
validated), with what (the model file, its checksum and fingerprint; the method, steps and rule;
the baseline and its reference rows; the reason catalogue in full; the cut-off and the decision
rule) and what was found, each check with its threshold, the measured value and a verdict:

* **completeness**: ``|sum_e A_e - (f(x) - f(b))|`` of every applicant against the tolerance;
* **steps doubled**: how often the top reason and the stated set change when the steps double;
* **reference redrawn**: how often they change when the baseline's reference rows are redrawn;
* **other baselines**: how often the documented baselines agree on the top reason (a low
  agreement says the reasons depend on the baseline choice, which must then be justified);
* **prohibited bases**: the one definition (:func:`~nbexplain.credit.reasons.rank_reasons`), how
  many denied applicants were flagged, by basis, and (in the JSON) which;
* the reasons given at every rank, the number of reasons per applicant, and the applicants who
  were given none.

:func:`validate_reasons` returns a :class:`ReasonValidation`, written as JSON (the record) and
self-contained HTML (no scripts, no external files).
"""

from __future__ import annotations

import datetime
import html
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .._version import __version__
from ..results.serial import dump_json, save_text, to_jsonable
from .reasons import reasons_from_attributions

COMPLETENESS_BINS = tuple(10.0**k for k in range(-10, 1))
FINGERPRINT_MEANING = (
    "The first 16 hex digits of SHA-256 over the model's class, its architecture (Keras configuration) and every "
    "weight: two results with the same fingerprint were computed by the same function."
)
DEFINITION = (
    "Only contributions that push the score toward denial count. A prohibited basis is material for a denied "
    "applicant when its adverse contribution is at least {materiality:.0%} of the applicant's adverse push (the sum "
    "of all contributions toward denial, reason groups and prohibited bases), or when the decision would change "
    "without it (its adverse contribution is at least the margin between the score and the cut-off; the cut-off "
    "itself passes). An approved applicant is never flagged. Prohibited bases are never stated as reasons."
)


@dataclass(frozen=True)
class Thresholds:
    """When a check passes, warns or fails (shares are of the validated applicants).

    ``completeness_warn``: a completeness error up to this multiple of the tolerance warns
    (beyond it fails); the stability shares are the largest share of applicants whose top reason
    may change (``*_pass`` to pass, ``*_warn`` to warn); ``baseline_agreement_*`` the smallest
    share of applicants on whose top reason two documented baselines must agree.
    """

    completeness_warn: float = 10.0
    steps_pass: float = 0.01
    steps_warn: float = 0.05
    redraw_pass: float = 0.02
    redraw_warn: float = 0.10
    baseline_agreement_pass: float = 0.80
    baseline_agreement_warn: float = 0.50


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


def _verdict(value: float, passing: float, warning: float, larger_is_better: bool = False) -> str:
    if larger_is_better:
        return "pass" if value >= passing else "warn" if value >= warning else "fail"
    return "pass" if value <= passing else "warn" if value <= warning else "fail"


@dataclass(frozen=True)
class ReasonValidation:
    """The report: a JSON-able record with an HTML rendering."""

    record: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return to_jsonable(self.record)

    def to_json(self, path=None) -> str:
        return dump_json(self.to_dict(), path, indent=2)

    def to_html(self, path=None) -> str:
        return save_text(render_html(self.to_dict()), path)

    @property
    def verdicts(self) -> dict:
        """``{check: "pass" | "warn" | "fail"}``."""
        return {check["name"]: check["verdict"] for check in self.record["checks"]}


def validate_reasons(
    reasons,
    applicants,
    *,
    baselines=None,
    redraws: int = 3,
    seed: int = 0,
    progress: bool = True,
    source: dict | None = None,
    model: dict | None = None,
    selection: str | None = None,
    thresholds: Thresholds | None = None,
) -> ReasonValidation:
    """Validate a :class:`~nbexplain.credit.adverse.ReasonRecipe` on denied ``applicants``.

    ``baselines``: ``{name: Baseline}`` documented alternatives to compare the stated reasons
    across (the recipe's own baseline is always the first). ``redraws``: how many fresh draws of
    the baseline's reference rows to compare with. ``source`` (``{"file", "sha256", "rows"}``)
    and ``model`` (``{"file", "sha256"}``) describe the files the report stands for;
    ``selection`` says how ``applicants`` were chosen (all denied applicants, or a sample).
    """
    from tqdm.auto import tqdm

    thresholds = thresholds or Thresholds()
    explainer = reasons.explainer
    redrawable = reasons.baseline.redrawn(seed + 1) is not reasons.baseline
    runs = 2 + (redraws if redrawable else 0) + len(baselines or {})
    bar = tqdm(total=runs, desc="reason validation", unit="run", disable=not progress)
    tolerance = reasons.tolerance if reasons.tolerance is not None else explainer.tolerance

    def run(recipe):
        attributions = recipe.attributions(applicants)
        ranked = reasons_from_attributions(
            attributions,
            recipe.catalogue,
            int(recipe.max_reasons),
            recipe.elements,
            cutoff=recipe.cutoff,
            tolerance=tolerance,
        )
        bar.update()
        return attributions, ranked

    attributions, ranked = run(reasons)
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
    if redrawable:
        for r in range(redraws):
            _, other = run(reasons.with_params(baseline=reasons.baseline.redrawn(seed + 1 + r)))
            redrawn.append({"seed": seed + 1 + r, **reason_changes(ranked, other)})
    named = {f"{reasons.baseline.kind} (chosen)": (attributions, ranked)}
    for name, baseline in (baselines or {}).items():
        named[name] = run(reasons.with_params(baseline=baseline))
    bar.close()

    checks = [_completeness_check(attributions, tolerance, thresholds), _steps_check(stability_steps, thresholds)]
    if redrawn:
        checks.append(_redraw_check(redrawn, thresholds))
    checks += [_baseline_check(name, ranked, named[name][1], thresholds) for name in list(named)[1:]]
    n = int(len(ranked.applicants))
    record = {
        "title": "Adverse-action reason validation",
        "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "nbexplain_version": __version__,
        "input": {
            **(source or {}),
            "rows_validated": n,
            "selection": selection or f"the {n} applicants given to the validation",
        },
        "model": {
            **(model or {}),
            "fingerprint": attributions.meta.get("model_fingerprint"),
            "fingerprint_meaning": FINGERPRINT_MEANING,
            "explained": attributions.meta.get("explained"),
        },
        "method": {
            "name": attributions.meta.get("method"),
            "rule": attributions.meta.get("rule"),
            "steps": steps,
            "tolerance": tolerance,
        },
        "baseline": dict(attributions.meta["baseline"]),
        "catalogue": reasons.catalogue.to_dict(),
        "cutoff": float(reasons.cutoff),
        "decision_rule": (
            f"denied when the score is {'above' if reasons.catalogue.adverse == 'increase' else 'below'} "
            f"the cut-off {float(reasons.cutoff):g}; the cut-off itself passes"
        ),
        "max_reasons": int(reasons.max_reasons),
        "applicants": n,
        "denied": int(ranked.denied.sum()),
        "checks": checks,
        "completeness": completeness_distribution(attributions),
        "steps_doubled": stability_steps,
        "reference_redrawn": {
            "method": (
                "fresh seeded draws (a bootstrap resample when the baseline used all reference rows)"
                if redrawable
                else "not applicable: this baseline is not drawn from reference rows"
            ),
            "runs": redrawn,
        },
        "across_baselines": _agreement(named),
        **_reasons_given(ranked),
        "prohibited_bases": _prohibited(ranked, reasons.catalogue),
    }
    return ReasonValidation(record)


def _completeness_check(attributions, tolerance, thresholds: Thresholds) -> dict:
    largest = float(attributions.completeness_error.max()) if attributions.n_samples else 0.0
    flagged = int(np.sum(attributions.completeness_error > tolerance))
    return {
        "name": "completeness",
        "measured": largest,
        "flagged_applicants": flagged,
        "description": "largest |sum of attributions - (score - baseline score)| over the applicants",
        "threshold": f"pass <= {tolerance:g}; warn <= {thresholds.completeness_warn * tolerance:g}; fail above",
        "verdict": _verdict(largest, tolerance, thresholds.completeness_warn * tolerance),
    }


def _steps_check(stability: dict, thresholds: Thresholds) -> dict:
    changed = stability["top_reason_changed"]
    return {
        "name": "steps doubled",
        "measured": changed,
        "description": f"share of applicants whose top reason changes from {stability['steps']} to "
        f"{stability['compared_with']} steps",
        "threshold": f"pass <= {thresholds.steps_pass:.0%}; warn <= {thresholds.steps_warn:.0%}; fail above",
        "verdict": _verdict(changed, thresholds.steps_pass, thresholds.steps_warn),
    }


def _redraw_check(redrawn: list, thresholds: Thresholds) -> dict:
    changed = max(r["top_reason_changed"] for r in redrawn)
    return {
        "name": "reference redrawn",
        "measured": changed,
        "description": f"largest share of applicants whose top reason changes over {len(redrawn)} fresh draws of "
        "the baseline's reference rows",
        "threshold": f"pass <= {thresholds.redraw_pass:.0%}; warn <= {thresholds.redraw_warn:.0%}; fail above",
        "verdict": _verdict(changed, thresholds.redraw_pass, thresholds.redraw_warn),
    }


def _baseline_check(name: str, chosen, other, thresholds: Thresholds) -> dict:
    agree = 1.0 - reason_changes(chosen, other)["top_reason_changed"]
    return {
        "name": f"baseline: {name}",
        "measured": agree,
        "description": f"share of applicants with the same top reason against the {name} baseline",
        "threshold": (
            f"pass >= {thresholds.baseline_agreement_pass:.0%}; warn >= "
            f"{thresholds.baseline_agreement_warn:.0%}; fail below"
        ),
        "verdict": _verdict(agree, thresholds.baseline_agreement_pass, thresholds.baseline_agreement_warn, True),
    }


def _agreement(named: dict) -> dict:
    names = list(named)
    return {
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


def _reasons_given(ranked) -> dict:
    codes = list(ranked.catalogue.codes)
    by_rank = {}
    for rank in range(ranked.order.shape[1]):
        column = ranked.order[:, rank]
        by_rank[str(rank + 1)] = {code: int(np.sum(column == i)) for i, code in enumerate(codes)}
    per_applicant = Counter(int(np.sum(row >= 0)) for row in ranked.order)
    none = [label for label, row in zip(ranked.applicants, ranked.order) if not np.any(row >= 0)]
    return {
        "reasons_by_rank": by_rank,
        "reasons_per_applicant": {str(k): int(per_applicant.get(k, 0)) for k in range(ranked.order.shape[1] + 1)},
        "no_reason": {"count": len(none), "applicants": list(none)},
    }


def _prohibited(ranked, catalogue) -> dict:
    flagged = [
        {
            "applicant": label,
            "bases": [b for b, flag in zip(catalogue.prohibited, flags) if flag],
            "contributions": dict(zip(catalogue.prohibited, contributions.tolist())),
            "score": float(score),
        }
        for label, flags, contributions, score in zip(
            ranked.applicants, ranked.material, ranked.prohibited, ranked.score
        )
        if flags.any()
    ]
    return {
        "features": list(catalogue.prohibited),
        "materiality": catalogue.materiality,
        "definition": DEFINITION.format(materiality=catalogue.materiality),
        "denied_flagged": len(flagged),
        "by_basis": {
            b: int(ranked.material[:, p].sum()) if ranked.material.size else 0
            for p, b in enumerate(catalogue.prohibited)
        },
        "flagged": flagged,
    }


# ------------------------------------------------------------------ HTML
def _table(header, rows, css: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{c if _raw(c) else html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table class='{css}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class _Html(str):
    """Markup that a table cell shows as it is."""


def _raw(cell: Any) -> bool:
    return isinstance(cell, _Html)


def _share(value) -> str:
    return "n/a" if value is None else f"{100 * float(value):.1f} %"


def _badge(verdict: str) -> _Html:
    colour = {"pass": "#1e7e34", "warn": "#b26a00", "fail": "#b00020"}[verdict]
    return _Html(f"<b class='verdict {verdict}' style='color:{colour}'>{verdict.upper()}</b>")


def _histogram_svg(histogram) -> str:
    """Bars per decade of completeness error, with a count axis and the count on each bar."""
    counts, edges = histogram["counts"], histogram["edges"]
    top = max(max(counts), 1)
    ticks = sorted({0, top, *(int(round(top * f)) for f in (0.25, 0.5, 0.75))})
    left, width, height, plot = 48, 520, 190, 140
    bar = (width - left) / len(counts)
    parts = [
        f'<line x1="{left}" y1="10" x2="{left}" y2="{10 + plot}" stroke="#333"/>',
        f'<line x1="{left}" y1="{10 + plot}" x2="{width}" y2="{10 + plot}" stroke="#333"/>',
        f'<text x="12" y="{10 + plot / 2}" font-size="10" transform="rotate(-90 12 {10 + plot / 2})" '
        'text-anchor="middle">applicants</text>',
        f'<text x="{(left + width) / 2}" y="{height - 2}" font-size="10" text-anchor="middle">'
        "completeness error (decade)</text>",
    ]
    for tick in ticks:
        y = 10 + plot - plot * tick / top
        parts.append(
            f'<line x1="{left - 4}" y1="{y:.1f}" x2="{left}" y2="{y:.1f}" stroke="#333"/>'
            f'<text x="{left - 6}" y="{y + 3:.1f}" font-size="9" text-anchor="end">{tick}</text>'
        )
    for i, count in enumerate(counts):
        h = plot * count / top
        x = left + i * bar
        parts.append(
            f'<rect x="{x + 2:.1f}" y="{10 + plot - h:.1f}" width="{bar - 4:.1f}" height="{h:.1f}" fill="#2e6da4">'
            f"<title>{count} applicants in [{edges[i]:.0e}, {edges[i + 1]:.0e})</title></rect>"
            f'<text x="{x + bar / 2:.1f}" y="{10 + plot - h - 3:.1f}" font-size="9" text-anchor="middle">'
            f"{count if count else ''}</text>"
            f'<text x="{x + bar / 2:.1f}" y="{plot + 24}" font-size="9" text-anchor="middle">'
            f"1e{int(np.log10(edges[i]))}</text>"
        )
    label = "completeness error histogram"
    return f'<svg width="{width}" height="{height}" role="img" aria-label="{label}">{"".join(parts)}</svg>'


def render_html(record: dict) -> str:
    """A self-contained HTML page of the report (no scripts, no external files)."""
    source, model, baseline = record["input"], record["model"], record["baseline"]
    completeness, steps = record["completeness"], record["steps_doubled"]
    redrawn, across, prohibited = record["reference_redrawn"], record["across_baselines"], record["prohibited_bases"]
    catalogue = record["catalogue"]
    reference = [
        [k, baseline.get(k)]
        for k in ("n_reference", "reference_fingerprint", "seed", "sample", "draws", "points", "resampled")
        if baseline.get(k) is not None
    ]
    sections = [
        f"<h1>{html.escape(record['title'])}</h1>",
        "<h2>What was validated</h2>",
        _table(
            ["item", "value"],
            [
                ["created (UTC)", record["created"]],
                ["nbexplain", record["nbexplain_version"]],
                ["input file", source.get("file", "(given in memory)")],
                ["input SHA-256", source.get("sha256", "n/a")],
                ["rows in the file", source.get("rows", "n/a")],
                ["rows validated", source["rows_validated"]],
                ["how they were chosen", source["selection"]],
                ["model file", model.get("file", "(given in memory)")],
                ["model SHA-256", model.get("sha256", "n/a")],
                ["model fingerprint", model.get("fingerprint")],
                ["what the fingerprint is", model["fingerprint_meaning"]],
                ["score explained", model.get("explained")],
                [
                    "method",
                    f"{record['method']['name']}, rule {record['method']['rule']}, steps "
                    f"{record['method']['steps']}, completeness tolerance {record['method']['tolerance']:g}",
                ],
                ["decision", record["decision_rule"]],
                ["reasons per applicant (max)", record["max_reasons"]],
                ["denied among the validated", record["denied"]],
            ],
        ),
        "<h2>Baseline and reference rows</h2>",
        _table(
            ["item", "value"],
            [
                ["baseline", baseline.get("kind")],
                ["statement", baseline.get("statement")],
                ["baseline score", f"{baseline.get('baseline_score', float('nan')):.6g}"],
                *reference,
            ],
        ),
        "<h2>Checks</h2>",
        _table(
            ["check", "what is measured", "threshold", "measured", "verdict"],
            [
                [c["name"], c["description"], c["threshold"], f"{c['measured']:.4g}", _badge(c["verdict"])]
                for c in record["checks"]
            ],
            css="checks",
        ),
        "<h2>1. Completeness</h2><p>|sum of attributions - (score - baseline score)| per applicant.</p>",
        _table(
            ["max", "p99", "p90", "median", "mean", "applicants"],
            [[*(f"{completeness[k]:.3g}" for k in ("max", "p99", "p90", "median", "mean")), completeness["n"]]],
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
        "<h2>3. Stability when the reference rows are redrawn</h2>",
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
        "<h2>5. Reasons given</h2><p>Applicants given each reason at each rank.</p>",
        _table(
            ["reason", *[f"rank {r}" for r in record["reasons_by_rank"]]],
            [
                [code, *[record["reasons_by_rank"][r][code] for r in record["reasons_by_rank"]]]
                for code in [r["code"] for r in catalogue["reasons"]]
            ],
        ),
        _table(["reasons stated", "applicants"], list(record["reasons_per_applicant"].items())),
        f"<p>Applicants given no reason: <b>{record['no_reason']['count']}</b>"
        + (
            f" ({html.escape(', '.join(map(str, record['no_reason']['applicants'][:50])))}"
            f"{' ...' if record['no_reason']['count'] > 50 else ''})"
            if record["no_reason"]["count"]
            else ""
        )
        + ".</p>",
        "<h2>6. Prohibited bases</h2>",
        f"<p>{html.escape(prohibited['definition'])}</p>",
        _table(
            ["basis", "denied applicants flagged"],
            [*prohibited["by_basis"].items(), ["any", prohibited["denied_flagged"]]],
        ),
        "<h2>7. The reason catalogue</h2>",
        _table(
            ["code", "statement", "features"],
            [[r["code"], r["statement"], ", ".join(r["features"])] for r in catalogue["reasons"]],
        ),
        f"<p>Prohibited bases (never stated): {html.escape(', '.join(catalogue['prohibited']) or 'none')}; "
        f"a reason is stated when it carries at least {catalogue['min_share']:.0%} of the adverse push.</p>",
    ]
    style = (
        "body{font-family:sans-serif;max-width:1000px;margin:24px auto;color:#222}table{border-collapse:collapse;"
        "margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px;"
        "vertical-align:top}th{background:#f3f3f3}"
    )
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(record['title'])}</title>"
        f"<style>{style}</style></head><body>{''.join(sections)}</body></html>"
    )
