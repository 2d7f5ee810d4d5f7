"""Vector charts for PDFs: small hand-built SVG (no raster, no JavaScript), Chinese labels in
the CJK font, so WeasyPrint draws them as paths and real text that `pdftotext` extracts.

Each function returns an `<svg>` string sized in millimetres for the A4 text column; values are
drawn to scale with the value printed at each bar, so the chart still reads in grey print.
"""
from __future__ import annotations

import math
from html import escape

FONT = "'Noto Sans CJK SC', 'Noto Sans CJK', sans-serif"
INK, GRID, BAR, ACCENT, MUTED = "#1f2937", "#d1d5db", "#2563eb", "#059669", "#6b7280"


def _fmt(value: float, unit: str) -> str:
    text = f"{value:.1f}" if isinstance(value, float) and not float(value).is_integer() \
        else f"{int(value)}"
    return f"{text}{unit}"


def _svg(width: float, height: float, body: list[str], title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'width="{width * 0.2646:.1f}mm" height="{height * 0.2646:.1f}mm" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}" font-size="11">'
            f'<title>{escape(title)}</title>{"".join(body)}</svg>')


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000):
        if value <= step * 5:
            return float(step * 5) if value > step * 4 else float(step * (int(value // step) + 1))
    return float(value)


def column_chart(labels: list[str], values: list[float], *, title: str, unit: str = "",
                 width: float = 640, height: float = 240, max_value: float | None = None,
                 color: str = BAR) -> str:
    """Vertical bars, one per label (e.g. cases per month), with a value above each bar."""
    top, bottom, left, right = 28, 36, 40, 10
    plot_w, plot_h = width - left - right, height - top - bottom
    vmax = max_value if max_value is not None else _nice_max(max(values, default=0))
    if max_value is None and all(float(v).is_integer() for v in values):
        vmax = max(4.0, math.ceil(vmax / 4) * 4.0)  # counts: whole-number grid lines
    body = [f'<text x="{left}" y="16" fill="{INK}" font-size="13">{escape(title)}</text>']
    for i in range(5):
        v = vmax * i / 4
        y = top + plot_h - plot_h * i / 4
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" '
                    f'stroke="{GRID}" stroke-width="0.6"/>')
        body.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}" '
                    f'font-size="9">{escape(_fmt(v, unit))}</text>')
    n = max(len(values), 1)
    slot = plot_w / n
    bar_w = slot * 0.62
    for i, (label, value) in enumerate(zip(labels, values)):
        h = plot_h * (value / vmax) if vmax else 0
        x = left + slot * i + (slot - bar_w) / 2
        y = top + plot_h - h
        body.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                    f'fill="{color}"/>')
        body.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                    f'fill="{INK}" font-size="9">{escape(_fmt(value, unit))}</text>')
        body.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - bottom + 14:.1f}" '
                    f'text-anchor="middle" fill="{INK}" font-size="10">{escape(label)}</text>')
    return _svg(width, height, body, title)


def bar_chart(labels: list[str], values: list[float], *, title: str, unit: str = "",
              width: float = 640, max_value: float | None = None, color: str = BAR) -> str:
    """Horizontal bars (e.g. cases per category, on-time rate per priority), label at the left,
    value at the bar's end. Height grows with the number of rows."""
    row, top, left, right = 20, 26, 120, 60
    height = top + row * max(len(values), 1) + 8
    plot_w = width - left - right
    vmax = max_value if max_value is not None else _nice_max(max(values, default=0))
    body = [f'<text x="0" y="15" fill="{INK}" font-size="13">{escape(title)}</text>',
            f'<line x1="{left}" y1="{top - 4}" x2="{left}" y2="{height - 6}" stroke="{GRID}"/>']
    for i, (label, value) in enumerate(zip(labels, values)):
        y = top + row * i
        w = plot_w * (value / vmax) if vmax else 0
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" fill="{INK}" '
                    f'font-size="10">{escape(label)}</text>')
        body.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 7}" '
                    f'fill="{color}"/>')
        body.append(f'<text x="{left + w + 4:.1f}" y="{y + 12}" fill="{INK}" font-size="10">'
                    f'{escape(_fmt(value, unit))}</text>')
    return _svg(width, height, body, title)


def rate_chart(labels: list[str], rates: list[float | None], *, title: str,
               no_data: str) -> str:
    """Percentages 0–100 as horizontal bars on a fixed scale; `None` rates print `no_data`."""
    row, top, left, right = 20, 26, 120, 60
    width = 640
    height = top + row * max(len(rates), 1) + 8
    plot_w = width - left - right
    body = [f'<text x="0" y="15" fill="{INK}" font-size="13">{escape(title)}</text>']
    for i, (label, rate) in enumerate(zip(labels, rates)):
        y = top + row * i
        body.append(f'<text x="{left - 6}" y="{y + 12}" text-anchor="end" fill="{INK}" '
                    f'font-size="10">{escape(label)}</text>')
        body.append(f'<rect x="{left}" y="{y + 2}" width="{plot_w}" height="{row - 7}" '
                    f'fill="none" stroke="{GRID}"/>')
        if rate is None:
            body.append(f'<text x="{left + 4}" y="{y + 12}" fill="{MUTED}" font-size="10">'
                        f'{escape(no_data)}</text>')
            continue
        w = plot_w * max(0.0, min(rate, 100.0)) / 100
        body.append(f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 7}" '
                    f'fill="{ACCENT}"/>')
        body.append(f'<text x="{left + plot_w + 4}" y="{y + 12}" fill="{INK}" font-size="10">'
                    f'{rate:.1f}%</text>')
    return _svg(width, height, body, title)
