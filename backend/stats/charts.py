"""Small inline SVG charts for the admin dashboard, drawn in Python (no JS library)."""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

PALETTE = ["#2f6fde", "#e8590c", "#2b8a3e", "#ae3ec9", "#c92a2a", "#1098ad", "#f08c00", "#5c7cfa"]


def line_chart(
    *,
    title: str,
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    width: int = 720,
    height: int = 300,
) -> str:
    """Lines of `series` over `labels` (x), with axes, gridlines and a legend."""
    left, right, top, bottom = 50, 160, 36, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([v for values in series.values() for v in values] + [1])
    n = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h - plot_h * v / peak

    parts = [_open(width, height, title)]
    for k in range(5):
        value = peak * k / 4
        parts.append(
            f'<line x1="{left}" y1="{y(value):.1f}" x2="{left + plot_w}" y2="{y(value):.1f}" stroke="#e9ecef"/>'
            f'<text x="{left - 6}" y="{y(value) + 4:.1f}" font-size="11" text-anchor="end">{value:.0f}</text>'
        )
    for i, label in enumerate(labels):
        parts.append(
            f'<text x="{x(i):.1f}" y="{height - bottom + 16}" font-size="10" text-anchor="middle">'
            f"{escape(label)}</text>"
        )
    for s, (name, values) in enumerate(series.items()):
        color = PALETTE[s % len(PALETTE)]
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
        for i, v in enumerate(values):
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(v):.1f}" r="3" fill="{color}"/>')
        ly = top + 14 * s
        parts.append(
            f'<rect x="{width - right + 12}" y="{ly}" width="10" height="10" fill="{color}"/>'
            f'<text x="{width - right + 26}" y="{ly + 9}" font-size="11">{escape(name[:12])}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    *,
    title: str,
    labels: Sequence[str],
    values: Sequence[float],
    percent: bool = False,
    width: int = 720,
    height: int = 300,
) -> str:
    """Vertical bars, one per label, value printed on each bar."""
    left, right, top, bottom = 50, 20, 48, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = 1.0 if percent else max([*list(values), 1])
    n = max(len(labels), 1)
    slot = plot_w / n
    bar_w = min(48.0, slot * 0.6)
    parts = [_open(width, height, title)]
    parts.append(
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#868e96"/>'
    )
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / peak if peak else 0
        bx = left + slot * i + (slot - bar_w) / 2
        shown = f"{value:.0%}" if percent else f"{value:g}"
        parts.append(
            f'<rect x="{bx:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
            f'fill="{PALETTE[0]}"><title>{escape(label)}: {shown}</title></rect>'
            f'<text x="{bx + bar_w / 2:.1f}" y="{top + plot_h - h - 4:.1f}" font-size="11" '
            f'text-anchor="middle">{shown}</text>'
            f'<text x="{bx + bar_w / 2:.1f}" y="{top + plot_h + 16}" font-size="10" text-anchor="middle">'
            f"{escape(label[:10])}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _open(width: int, height: int, title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'font-family="sans-serif"><rect width="100%" height="100%" fill="#fff"/>'
        f'<text x="12" y="22" font-size="15" font-weight="bold">{escape(title)}</text>'
    )
