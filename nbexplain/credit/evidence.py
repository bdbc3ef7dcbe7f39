"""The model-level evidence pack: one self-contained HTML file written from an explanation bundle.

It opens in any browser years later, with no kernel and no network (inline CSS and SVG, no
script): what the model is (its fingerprint, the model file's and the data's checksums), how it
was explained, its global importance, the selection curve (and the retrained networks' test
errors when the experiment ran), the comparison with other methods, the reasons given at the
default settings over the bundle's rows, and the reason validation summary the bundle carries.
"""

from __future__ import annotations

import datetime
import html
from collections import Counter
from pathlib import Path

import numpy as np

from .._files import write_text
from .._version import __version__
from ..errors import NBExplainError
from ..results.bundle import ExplanationBundle, open_bundle
from .reasons import ReasonCatalogue, rank_reasons

#: Features drawn in the importance charts and tables.
TOP = 15


def _rows(header: list, rows: list) -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def bars_svg(labels: list, values: list, title: str, unit: str = "", width: int = 640) -> str:
    """Horizontal bars with their values written at their ends, largest first (inline SVG)."""
    values = [float(v) for v in values]
    top = max(max(values, default=0.0), 1e-12)
    left, bar, right = 230, 20, 70
    height = 30 + bar * len(values)
    scale = (width - left - right) / top
    parts = [f'<text x="0" y="14" font-size="13" font-weight="bold">{html.escape(title)}</text>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = 24 + i * bar
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" font-size="11" text-anchor="end">{html.escape(str(label))}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{max(value, 0) * scale:.1f}" height="{bar - 6}" fill="#2e6da4"/>'
            f'<text x="{left + max(value, 0) * scale + 4:.1f}" y="{y + 13}" font-size="10">{value:.3g}{unit}</text>'
        )
    return f'<svg width="{width}" height="{height}" role="img" aria-label="{html.escape(title)}">{"".join(parts)}</svg>'


def curve_svg(shares: list, share: float, k: int, width: int = 640, height: int = 240) -> str:
    """The cumulative share of importance against the number of top features, with the line at
    ``share`` % and the ``k`` it selects."""
    left, bottom, top_margin, right = 50, 40, 20, 20
    n = len(shares)

    def x(i: float) -> float:
        return left + (width - left - right) * i / max(n - 1, 1)

    def y(v: float) -> float:
        return top_margin + (height - top_margin - bottom) * (1 - v / 100)

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(shares))
    parts = [
        f'<line x1="{left}" y1="{y(0)}" x2="{width - right}" y2="{y(0)}" stroke="#333"/>',
        f'<line x1="{left}" y1="{y(0)}" x2="{left}" y2="{y(100)}" stroke="#333"/>',
        f'<line x1="{left}" y1="{y(share):.1f}" x2="{width - right}" y2="{y(share):.1f}" stroke="#c0392b" '
        'stroke-dasharray="4 3"/>',
        f'<polyline points="{points}" fill="none" stroke="#2e6da4" stroke-width="2"/>',
        f'<line x1="{x(k - 1):.1f}" y1="{y(0)}" x2="{x(k - 1):.1f}" y2="{y(100)}" stroke="#7f8c8d" '
        'stroke-dasharray="2 3"/>',
        (
            f'<text x="{x(k - 1) + 4:.1f}" y="{y(100) + 12:.1f}" font-size="11">top {k} cover {share:g} %</text>'
            if x(k - 1) < 0.7 * width
            else f'<text x="{x(k - 1) - 4:.1f}" y="{y(100) + 12:.1f}" font-size="11" text-anchor="end">top {k} cover '
            f"{share:g} %</text>"
        ),
        f'<text x="{(left + width) / 2}" y="{height - 6}" font-size="11" text-anchor="middle">number of top '
        "features</text>",
        f'<text x="12" y="{height / 2}" font-size="11" transform="rotate(-90 12 {height / 2})" '
        'text-anchor="middle">cumulative share (%)</text>',
    ]
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" font-size="10" text-anchor="end">{tick}</text>')
    for i in range(n):
        parts.append(f'<text x="{x(i):.1f}" y="{y(0) + 14:.1f}" font-size="9" text-anchor="middle">{i + 1}</text>')
    label = "cumulative share of importance"
    return f'<svg width="{width}" height="{height}" role="img" aria-label="{label}">{"".join(parts)}</svg>'


def _default_reasons(bundle: ExplanationBundle) -> tuple[dict, int, dict]:
    """Top reasons at the stored default settings over the bundle's denied rows, their count,
    and the completeness errors' summary."""
    record = bundle.record
    stored = bundle.default_attributions()
    columns = [c for c in stored if not c.startswith("__")]
    catalogue = ReasonCatalogue.from_dict(record["catalogue"])
    values = np.column_stack([stored[c] for c in columns])
    ranked = rank_reasons(
        values,
        columns,
        catalogue,
        score=bundle.scores(),
        baseline_score=stored["__baseline_score"],
        completeness_error=stored["__completeness_error"],
        cutoff=record["threshold"],
        tolerance=record["defaults"]["tolerance"],
    )
    denied = ranked.denied
    first = Counter(catalogue.codes[r] if r >= 0 else "(none)" for r in ranked.order[denied, 0])
    errors = np.asarray(stored["__completeness_error"])
    summary = {
        "max": float(errors.max()),
        "median": float(np.median(errors)),
        "above tolerance": int((~ranked.completeness_ok).sum()),
    }
    return dict(first.most_common()), int(denied.sum()), summary


def evidence_html(bundle: ExplanationBundle | str | Path) -> str:
    """The evidence pack of a bundle, as one self-contained HTML page."""
    bundle = bundle if isinstance(bundle, ExplanationBundle) else open_bundle(bundle)
    record = bundle.record
    meta = record["explained"]["meta"]
    importance = bundle.explanation("global_importance")
    if importance is None:
        raise NBExplainError(f"{bundle.path} has no global importance; build the bundle again.")
    ordered = importance.sorted()
    names, values = list(ordered.feature_names), list(ordered.values)
    cumulative = list(ordered.cumulative_share().values)
    chosen = importance.covering(90.0)
    defaults = record["defaults"]
    first, n_denied, completeness = _default_reasons(bundle)
    sections = [
        f"<h1>Evidence pack: {html.escape(record['title'])}</h1>",
        "<h2>The model and the data</h2>",
        _rows(
            ["item", "value"],
            [
                ["written (UTC)", datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")],
                ["bundle built by", f"nbexplain {record.get('nbexplain')}; this page by nbexplain {__version__}"],
                ["model fingerprint", record["model"].get("fingerprint")],
                ["model file", record["model"].get("artifact") or "(not recorded)"],
                ["model file SHA-256", record["model"].get("artifact_sha256") or "(not recorded)"],
                ["rows", f"{record['rows']['count']:,}"],
                ["rows SHA-256", record["rows"]["sha256"]],
                ["score explained", meta.get("explained")],
                ["outcome", record["outcome"]],
                [
                    "decision",
                    f"outcome {record['class_labels'][-1]!r} (denial) above {record['threshold']:g}; the "
                    "threshold itself passes",
                ],
                [
                    "method of the views",
                    str(meta.get("method")) + (f": {meta['formula']}" if meta.get("formula") else ""),
                ],
                *[[str(k), str(v)] for k, v in record.get("description", {}).items()],
            ],
        ),
        "<h2>Global importance</h2>",
        bars_svg(names[:TOP], values[:TOP], f"{meta.get('method')} importance (sums to 100)", " %"),
        "<h2>Feature selection</h2>",
        f"<p>The top {len(chosen)} features cover 90 % of the importance: {html.escape(', '.join(chosen))}.</p>",
        curve_svg(cumulative, 90.0, len(chosen)),
    ]
    errors = record.get("selection_errors") or {}
    if errors:
        sections.append(
            _rows(
                ["top k features", "test error of the retrained network"],
                [[k, f"{float(v):.2%}"] for k, v in sorted(errors.items(), key=lambda kv: int(kv[0]))],
            )
        )
    else:
        sections.append("<p>No retrain experiment was run for this model.</p>")
    comparisons = bundle.comparisons()
    if comparisons:
        rows = []
        for feature in names[:TOP]:
            row = [feature, f"{importance.sel(feature=feature).values:.2f}"]
            for view in comparisons.values():
                row.append(f"{view.sel(feature=feature).values:.2f}" if feature in view.feature_names else "n/a")
            rows.append(row)
        sections += [
            "<h2>Comparison with other methods</h2><p>Shares of importance (%), top features of this model.</p>",
            _rows(["feature", str(meta.get("method")), *comparisons], rows),
        ]
    sections += [
        "<h2>Reasons at the default settings</h2>",
        f"<p>{n_denied:,} of {record['rows']['count']:,} rows are denied. Baseline: "
        f"{html.escape(str(defaults['baseline_description'].get('statement', defaults['baseline'])))} "
        f"({defaults['method']}, {defaults['steps']} {defaults['rule']} steps). Completeness error: largest "
        f"{completeness['max']:.2g}, median {completeness['median']:.2g}; "
        f"{completeness['above tolerance']} row(s) above the tolerance {defaults['tolerance']:g}.</p>",
        _rows(["first reason", "denied rows"], list(first.items())),
    ]
    validation = record.get("validation")
    if validation:
        sections += [
            "<h2>Reason validation</h2>",
            f"<p>{html.escape(validation['input']['selection'])}.</p>",
            _rows(
                ["check", "threshold", "measured", "verdict"],
                [
                    [c["name"], c["threshold"], f"{c['measured']:.4g}", c["verdict"].upper()]
                    for c in validation["checks"]
                ],
            ),
            _prohibited_summary(validation["prohibited_bases"]),
        ]
    style = (
        "body{font-family:sans-serif;max-width:980px;margin:24px auto;color:#222}table{border-collapse:collapse;"
        "margin:8px 0 16px}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left;font-size:13px}"
        "th{background:#f3f3f3}svg{display:block;margin:8px 0 16px}"
    )
    title = html.escape(f"Evidence pack: {record['title']}")
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title><style>{style}</style></head>"
        f"<body>{''.join(sections)}</body></html>"
    )


def _prohibited_summary(prohibited: dict) -> str:
    if not prohibited["features"]:
        return "<p>The reason catalogue names no prohibited basis, so none was checked.</p>"
    by_basis = ", ".join(f"{k}: {v}" for k, v in prohibited["by_basis"].items())
    return (
        f"<p>{html.escape(prohibited['definition'])} Denied applicants flagged: {prohibited['denied_flagged']} "
        f"({html.escape(by_basis)}).</p>"
    )


def write_evidence_pack(bundle: ExplanationBundle | str | Path, out: str | Path) -> Path:
    """Write the evidence pack of ``bundle`` to ``out`` (all-or-nothing)."""
    out = Path(out)
    write_text(out, evidence_html(bundle))
    return out


__all__ = ["evidence_html", "write_evidence_pack"]
