"""The explanation record of one applicant: one self-contained HTML page a lender files with a notice.

:func:`explanation_record` builds it from results only (a :class:`~nbexplain.widgets.PickedSample`
and the reasons panel's :class:`~nbexplain.widgets.controller.ApplicantReasons`, with the
:class:`~nbexplain.credit.reasons.AdverseActionReasons` inside): the score and the decision at the
cut-off, the stated reasons with their contributions, every reason group's contribution drawn as
a waterfall, the prohibited-basis check, the baseline's statement, the completeness error, the
local importances, the methods, the model fingerprint and the package versions. No script, no
external file, no web address: the CSS is inline and the bars are inline SVG, so the page opens
the same anywhere, prints (``@media print``) and can be archived as it is. :func:`record_pdf`
prints it to PDF with a headless Chromium when one is installed (optional).

This module imports no TensorFlow: a record is built from results alone.
"""

from __future__ import annotations

import datetime
import html
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from .._version import __version__
from ..charts._base import NEGATIVE, NEUTRAL, POSITIVE, axis_range, round_ticks
from ..charts.attribution import waterfall_rows
from ..charts.importance import format_number
from ..errors import MissingDependencyError, NBExplainError

#: Completeness errors up to this are met (when the result does not state its own tolerance).
COMPLETENESS_TOLERANCE = 1e-6

_CSS = """
body{font:14px/1.45 -apple-system,'Segoe UI',Helvetica,Arial,sans-serif;color:#222;margin:24px auto;
max-width:860px;padding:0 16px}
h1{font-size:22px;margin:0 0 2px}h2{font-size:16px;margin:22px 0 6px;border-bottom:1px solid #ddd;
padding-bottom:3px}.sub{color:#555;margin:0 0 10px}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:3px 8px 3px 0;vertical-align:top;
border-bottom:1px solid #eee}th{font-weight:600;color:#333}td.num{text-align:right;font-variant-numeric:
tabular-nums;white-space:nowrap}table.facts th{width:230px;font-weight:normal;color:#555}
.decision{font-size:20px;font-weight:700}.denied{color:#8b1a1a}.approved{color:#1e7e34}
.ok{color:#1e7e34}.flag{color:#b26a00}.alert{color:#8b1a1a;background:#fdecea;border:1px solid #e6a5a0;
padding:6px 8px;margin:6px 0}.note{color:#555;font-size:12px}.whatif{background:#f4ecf7;border:1px solid
#c39bd3;padding:6px 8px;margin:8px 0}ol.reasons li{margin:2px 0}code{font-size:12px}
svg text{font:11px Helvetica,Arial,sans-serif;fill:#333}svg.waterfall{max-width:100%;height:auto}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}table,svg,.alert{break-inside:avoid}}
@page{size:A4;margin:14mm}
"""


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _number(value, digits: int = 4) -> str:
    if value is None:
        return "not recorded"
    value = float(value)
    return f"{value:.{digits}f}" if np.isfinite(value) else str(value)


def _fact(key: str, label: str, value: str) -> str:
    """One row of a facts table; ``value`` is HTML (already escaped)."""
    return f"<tr><th>{_e(label)}</th><td data-fact='{_e(key)}'>{value}</td></tr>"


def _importance_bar(share: float, direction: float, limit: float, width: int = 150) -> str:
    """A horizontal bar of ``share`` on ``[0, limit]``, coloured by the sign of ``direction``."""
    length = 0.0 if limit <= 0 or not np.isfinite(share) else width * min(max(share, 0.0), limit) / limit
    colour = NEUTRAL if not np.isfinite(direction) or direction == 0 else (POSITIVE if direction > 0 else NEGATIVE)
    return (
        f"<svg class='bar' width='{width}' height='12' viewBox='0 0 {width} 12' role='img' "
        f"aria-label='{share:.2f} %'><rect x='0' y='2' width='{length:.1f}' height='8' fill='{colour}'/></svg>"
    )


def waterfall_svg(by_reason, width: int = 720, row: int = 24, label_width: int = 230) -> str:
    """The waterfall of the reasons panel as inline SVG: the baseline score, each reason group's
    contribution (rises red, falls blue) and the applicant's score (grey), with the amount at the
    end of each bar and a score axis that covers every running total."""
    labels = by_reason.labels(by_reason.dims[0])
    contributions = {label: value for label, value in zip(labels, by_reason.values) if value != 0}
    rows = waterfall_rows(contributions, by_reason.meta["baseline_score"], by_reason.meta["score_value"])
    low, high = axis_range([value for _, start, end, _ in rows for value in (start, end)])
    left, right = label_width, width - 70
    top, height = 8, 8 + row * len(rows) + 30

    def x(value):
        return left + (right - left) * (value - low) / (high - low)

    parts = [
        f"<svg class='waterfall' width='{width}' height='{height}' viewBox='0 0 {width} {height}' role='img' "
        "aria-label='waterfall from the baseline score to the applicant&#x27;s score'>"
    ]
    for tick in round_ticks(low, high):
        parts.append(
            f"<line x1='{x(tick):.1f}' x2='{x(tick):.1f}' y1='{top}' y2='{top + row * len(rows)}' stroke='#e5e5e5'/>"
            f"<text x='{x(tick):.1f}' y='{top + row * len(rows) + 14}' text-anchor='middle'>{tick:.3g}</text>"
        )
    parts.append(
        f"<text x='{(left + right) / 2:.1f}' y='{top + row * len(rows) + 28}' text-anchor='middle'>score</text>"
    )
    colours = {"raises": POSITIVE, "lowers": NEGATIVE, "level": NEUTRAL}
    for index, (label, start, end, kind) in enumerate(rows):
        y = top + index * row
        a, b = sorted((x(start), x(end)))
        amount = end - start if kind != "level" else end
        text = f"{amount:+.4f}" if kind != "level" else f"{amount:.4f}"
        parts.append(
            f"<g data-row='{_e(label)}' data-start='{start!r}' data-end='{end!r}'>"
            f"<text x='{left - 8}' y='{y + row * 0.65:.1f}' text-anchor='end'>{_e(label)}</text>"
            f"<rect x='{a:.1f}' y='{y + 4}' width='{max(b - a, 0.5):.1f}' height='{row - 8}' fill='{colours[kind]}'/>"
            f"<text x='{b + 4:.1f}' y='{y + row * 0.65:.1f}'>{_e(text)}</text></g>"
        )
    parts.append(f"<line x1='{x(0.0):.1f}' x2='{x(0.0):.1f}' y1='{top}' y2='{top + row * len(rows)}' stroke='#555'/>")
    parts.append("</svg>")
    return "".join(parts)


def explanation_record(
    sample,
    reasons,
    *,
    title: str = "",
    outcome: str = "score",
    threshold: float | None = None,
    class_labels=None,
    reference: str = "",
    generated: datetime.datetime | None = None,
) -> str:
    """One self-contained HTML page recording the explanation of one applicant.

    Parameters
    ----------
    sample : PickedSample
        The row as the dashboard shows it (``controller.sample``): its local importance, raw
        values, prediction and any what-if edits.
    reasons : ApplicantReasons
        The reasons panel's result for that row (``controller.reasons(...)``).
    title : str
        What the model is (the dashboard's title).
    outcome : str
        What the score is (e.g. ``"P(default)"``).
    threshold : float, optional
        The cut-off; read from the reasons' meta when not given.
    class_labels : pair of str, optional
        Names of the two predicted classes (e.g. ``("no default", "default")``).
    reference : str
        Which rows the baseline was built from, in words.
    generated : datetime, optional
        When the record was made (now, in UTC, by default).

    Returns
    -------
    str
        The HTML page (UTF-8 text): no script, no external file, no web address.
    """
    notice, by_reason = reasons.notice, reasons.by_reason
    meta, local = by_reason.meta, sample.local
    if "baseline_score" not in meta or meta.get("score_value") is None:
        raise NBExplainError("The record needs the reasons panel's result (both scores in by_reason's meta).")
    generated = generated or datetime.datetime.now(datetime.UTC)
    cutoff = float(threshold if threshold is not None else meta.get("cutoff", float("nan")))
    catalogue = meta.get("catalogue") or {}
    adverse = catalogue.get("adverse", "increase")
    denied = bool(reasons.denied)
    decision = "DENIED" if denied else "APPROVED"
    tolerance = meta.get("completeness_tolerance") or COMPLETENESS_TOLERANCE
    error = float(reasons.completeness_error)
    met = error <= tolerance
    applicant = f"row {reasons.position}" + (
        f" (label {_e(sample.label)})" if str(sample.label) != str(reasons.position) else ""
    )
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<meta name='generator' content='nbexplain {_e(__version__)}'>",
        f"<title>Explanation record: {_e(applicant)}</title><style>{_CSS}</style></head><body>",
        "<h1>Explanation record</h1>",
        f"<p class='sub'>{_e(title) + ' · ' if title else ''}applicant {_e(applicant)} · made "
        f"<time datetime='{generated.isoformat()}'>{generated:%Y-%m-%d %H:%M:%S %Z}</time></p>",
    ]
    if sample.edited:
        edits = ", ".join(f"{_e(c)} = {_e(format_number(v))}" for c, v in sample.edits.items())
        out.append(
            f"<div class='whatif' data-fact='what-if'><b>What-if edit:</b> this record explains row "
            f"{reasons.position} with {edits} (the score before the edit was "
            f"{_number(sample.original_prediction)}). It is not the applicant as filed.</div>"
        )

    # ----------------------------------------------------------------- decision
    rule = "above" if adverse == "increase" else "below"
    out += [
        "<h2 id='decision'>Decision</h2>",
        f"<p class='decision {decision.lower()}' data-fact='decision'>{decision}</p>",
        "<table class='facts'>",
        _fact("score", f"score ({outcome})", f"<b>{_number(notice.score)}</b>"),
        _fact("cutoff", "cut-off", f"{_number(cutoff, 4)} (denied when the score is {rule} it; the cut-off passes)"),
    ]
    if class_labels is not None and np.isfinite(cutoff):
        out.append(_fact("predicted", "predicted class", _e(class_labels[int(denied)])))
    out.append("</table>")

    # ------------------------------------------------------------------ reasons
    heading = "Reasons" if denied else "Reasons (had the applicant been denied)"
    out.append(f"<h2 id='reasons'>{heading}</h2>")
    if notice.reasons:
        out.append("<ol class='reasons' id='stated-reasons'>")
        for reason in notice.reasons:
            out.append(
                f"<li data-code='{_e(reason.code)}' data-rank='{reason.rank}' "
                f"data-contribution='{reason.contribution!r}'>{_e(reason.statement)} "
                f"<span class='note'>[{_e(reason.code)}] contribution {reason.contribution:+.4f}; "
                f"features {_e(', '.join(reason.features))}</span></li>"
            )
        out.append("</ol>")
    else:
        out.append("<p id='stated-reasons'>No contribution pushes the score toward denial against this baseline.</p>")
    for message in notice.warnings:
        out.append(f"<div class='alert' role='alert' data-fact='prohibited-warning'>{_e(message)}</div>")

    out.append("<h2 id='contributions'>Contribution of every reason group</h2>")
    out.append(
        "<p class='note'>From the baseline score through each group's summed attribution to the applicant's "
        "score (red raises the score, blue lowers it). Prohibited bases are never reasons; their "
        "contributions are shown for review.</p>"
    )
    out.append(waterfall_svg(by_reason))
    out.append("<table id='reason-contributions'><tr><th>group</th><th>statement</th><th>contribution</th></tr>")
    statements = {r["code"]: r["statement"] for r in catalogue.get("reasons", [])}
    for label, value in zip(by_reason.labels(by_reason.dims[0]), by_reason.values):
        code = str(label).split(". ", 1)[-1]
        statement = statements.get(code, "prohibited basis" if str(label).endswith("(prohibited)") else "")
        out.append(
            f"<tr data-group='{_e(label)}' data-contribution='{float(value)!r}'><td>{_e(label)}</td>"
            f"<td>{_e(statement)}</td><td class='num'>{float(value):+.6f}</td></tr>"
        )
    out.append("</table>")

    # ---------------------------------------------------------- baseline, completeness
    baseline = dict(reasons.baseline)
    out += [
        "<h2 id='baseline'>Baseline</h2>",
        f"<p data-fact='baseline-statement'>{_e(baseline.get('statement', 'not recorded'))}</p>",
        "<table class='facts'>",
        _fact("baseline-kind", "baseline", _e(baseline.get("kind", "not recorded"))),
        _fact("baseline-score", "score at the baseline", _number(notice.baseline_score)),
    ]
    if baseline.get("average_score_of_reference") is not None:
        out.append(
            _fact(
                "reference-score",
                "average score of the reference rows",
                _number(baseline["average_score_of_reference"]),
            )
        )
    if baseline.get("n_reference") is not None:
        rows = f"{int(baseline['n_reference']):,} rows" + (f": {_e(reference)}" if reference else "")
        out.append(_fact("reference-rows", "reference rows", rows))
    if baseline.get("reference_fingerprint"):
        out.append(
            _fact(
                "reference-fingerprint",
                "reference fingerprint",
                f"<code>{_e(baseline['reference_fingerprint'])}</code>",
            )
        )
    out.append("</table>")
    verdict = f"<span class='{'ok' if met else 'flag'}'>{'met' if met else 'NOT met'}</span>"
    out += [
        "<h2 id='completeness'>Completeness</h2>",
        "<p class='note'>The attributions must add up to the difference between the applicant's score and the "
        "baseline's score; the completeness error is the gap.</p>",
        "<table class='facts'>",
        _fact("completeness-error", "completeness error", f"{error:.3e} ({verdict} at tolerance {tolerance:g})"),
        _fact("steps", "quadrature steps", _e(reasons.steps)),
        _fact("rule", "quadrature rule", _e(reasons.rule)),
        "</table>",
    ]

    # ---------------------------------------------------------- local importance
    ordered = local.sorted()
    values = ordered.data if ordered.data is not None else np.full(len(ordered.values), np.nan)
    signed = ordered.signed if ordered.signed is not None else np.full(len(ordered.values), np.nan)
    limit = float(np.max(ordered.values, initial=0.0))
    out += [
        "<h2 id='local-importance'>Local importance</h2>",
        f"<p class='note'>{_e(local.meta.get('method', ''))}: <code>{_e(local.meta.get('formula', ''))}</code>; "
        "the share of each feature in % (red: the gradient raises the score, blue: it lowers it).</p>",
        "<table id='local-importances'><tr><th>feature</th><th>value</th><th>importance (%)</th><th></th>"
        "<th>gradient</th></tr>",
    ]
    for name, share, value, gradient in zip(ordered.feature_names, ordered.values, values, signed):
        shown = format_number(value) if np.isfinite(value) else ""
        out.append(
            f"<tr data-feature='{_e(name)}' data-importance='{float(share)!r}'><td>{_e(name)}</td>"
            f"<td class='num'>{_e(shown)}</td><td class='num'>{share:.3f}</td>"
            f"<td>{_importance_bar(float(share), float(gradient), limit)}</td>"
            f"<td class='num'>{'' if not np.isfinite(gradient) else f'{gradient:.4g}'}</td></tr>"
        )
    out.append("</table>")

    # ---------------------------------------------------------------- provenance
    fingerprints = {meta.get("model_fingerprint"), local.meta.get("model_fingerprint")} - {None}
    fingerprint = " / ".join(f"<code>{_e(f)}</code>" for f in sorted(fingerprints)) or "not recorded"
    if len(fingerprints) > 1:
        fingerprint += " <span class='flag'>(the reasons and the local importance name different models)</span>"
    out += [
        "<h2 id='provenance'>How this was made</h2>",
        "<table class='facts'>",
        _fact("method", "reasons: method", _e(meta.get("method", "not recorded"))),
        _fact("local-method", "local importance: method", _e(local.meta.get("method", "not recorded"))),
        _fact("explained", "score explained", _e(f"{outcome} ({local.meta.get('explained', 'output')})")),
        _fact("model-fingerprint", "model fingerprint", fingerprint),
        _fact("results-version", "nbexplain version of the results", _e(local.meta.get("version", "not recorded"))),
        _fact("version", "nbexplain version of this record", _e(__version__)),
        _fact("generated", "made (UTC)", _e(generated.isoformat())),
        "</table>",
        "</body></html>",
    ]
    return "\n".join(out)


def record_of(controller, reasons) -> str:
    """The record of the controller's shown row (``controller.sample``) with ``reasons`` from
    ``controller.reasons(...)``: the dashboard's title, outcome, cut-off and class names."""
    data = controller.data
    rows = data.description.get("rows")
    reference = f"the {controller.n_rows:,} rows of the dashboard" + (f" ({rows})" if rows else "")
    return explanation_record(
        controller.sample,
        reasons,
        title=data.title,
        outcome=data.outcome,
        threshold=data.threshold,
        class_labels=data.class_labels,
        reference=reference,
    )


def record_filename(reasons) -> str:
    """``explanation-record-row-17.html`` (``-what-if`` for an edited row)."""
    return f"explanation-record-row-{reasons.position}{'-what-if' if reasons.edited else ''}.html"


def chromium_executable() -> str | None:
    """A Chromium to print with: ``$NBEXPLAIN_CHROMIUM``, else ``chromium`` on the PATH."""
    return os.environ.get("NBEXPLAIN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def record_pdf(record: str, path, chromium: str | None = None, timeout: float = 120.0) -> Path:
    """Print an HTML record to PDF with a headless Chromium (optional: only where one is installed).

    The page needs nothing from the network, so Chromium prints exactly what the HTML shows. The
    PDF is written all-or-nothing to ``path``.
    """
    from .._files import write_bytes

    executable = chromium or chromium_executable()
    if executable is None:
        raise MissingDependencyError(
            "Printing a record to PDF needs Chromium (apt-get install -y chromium, or set NBEXPLAIN_CHROMIUM); "
            "the HTML record itself needs nothing."
        )
    with tempfile.TemporaryDirectory(prefix="nbexplain-pdf-") as folder:
        source, printed = Path(folder) / "record.html", Path(folder) / "record.pdf"
        source.write_text(record, encoding="utf-8")
        command = [
            executable,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            f"--user-data-dir={Path(folder) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={printed}",
            source.as_uri(),
        ]
        run = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
        if not printed.is_file() or not printed.read_bytes().startswith(b"%PDF"):
            raise NBExplainError(f"Chromium did not print the record (exit {run.returncode}): {run.stderr[-500:]}")
        write_bytes(path, printed.read_bytes())
    return Path(path)
