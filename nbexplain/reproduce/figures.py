"""Static figures of the paper (matplotlib): importance rankings and the cumulative-share curve.

Each function takes :class:`~nbexplain.Explanation` objects only and returns a matplotlib
``Figure``; nothing here computes an explanation. The figures are not registered with pyplot, so
they are shown only where a notebook displays them and never pile up in a script.
"""

from __future__ import annotations

import numpy as np

from .._files import atomic_path


def _figure(width, height):
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height))


def ranking_figure(panels: dict, title: str = "", top: int | None = None):
    """One horizontal bar chart per ``{panel title: 1-D Explanation}``, largest at the top."""
    n_rows = max(len(e.values) if top is None else min(top, len(e.values)) for e in panels.values())
    figure = _figure(5.2 * len(panels), 0.28 * n_rows + 1.4)
    axes = figure.subplots(1, len(panels), squeeze=False)
    for ax, (name, explanation) in zip(axes[0], panels.items()):
        ranked = explanation.sorted() if top is None else explanation.top(top)
        labels = [str(label) for label in ranked.labels(ranked.dims[0])]
        ax.barh(np.arange(len(labels))[::-1], ranked.values, color="#3b6ea8")
        ax.set_yticks(np.arange(len(labels))[::-1], labels, fontsize=8)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("share of importance (%)", fontsize=8)
    if title:
        figure.suptitle(title, fontsize=11)
    figure.tight_layout()
    return figure


def cumulative_figure(importance, share: float = 90.0):
    """Cumulative share of importance covered by the top k features, with the ``share`` line and
    the k it selects."""
    cumulative = importance.cumulative_share()
    k = len(importance.covering(share))
    figure = _figure(6, 3.4)
    ax = figure.subplots()
    ks = np.arange(1, len(cumulative.values) + 1)
    ax.plot(ks, cumulative.values, marker="o", markersize=3, color="#3b6ea8")
    ax.axhline(share, color="#b8442f", linestyle="--", linewidth=1)
    ax.axvline(k, color="#b8442f", linestyle=":", linewidth=1)
    ax.annotate(
        f"{share:g} % reached with k = {k}",
        (k, share),
        textcoords="offset points",
        xytext=(6, -14),
        fontsize=8,
        color="#b8442f",
    )
    ax.set_xlabel("top k features")
    ax.set_ylabel("cumulative importance (%)")
    ax.set_ylim(0, 101)
    figure.tight_layout()
    return figure


def save_figure(figure, path, dpi: int = 120) -> None:
    """Write a matplotlib figure as PNG, all-or-nothing (a temporary name, then a rename)."""
    with atomic_path(path) as temporary:
        figure.savefig(temporary, dpi=dpi, format="png")
