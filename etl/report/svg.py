"""Charts of the report as inline SVG: hand-drawn bars and lines, no script, no external resource.

Each chart is an ``<svg class="chart">`` whose data marks (bars, points, cells) carry
``class="mark"`` and ``data-value``; a value that is missing (``None``) draws no mark and shows
``—``. Text is escaped.

>>> svg = bar_chart([("甲", 0.5), ("乙", None)], value_text=lambda v: f"{v:.0%}")
>>> svg.count('class="mark"'), "50%" in svg, "—" in svg
(1, True, True)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

BLUE, ORANGE, GREEN, GREY, RED = "#2f6db5", "#e08a1e", "#3a9a5b", "#c9ced6", "#c8423b"
FONT = 'font-family="Noto Sans CJK SC, Microsoft YaHei, sans-serif"'


def _text(x: float, y: float, text: str, *, size: int = 12, anchor: str = "start", fill: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" {FONT}>'
            f"{escape(text)}</text>")  # fmt: skip


def fit(text: str, pixels: int) -> str:
    """``text`` cut to about ``pixels`` wide at 12 px (12 a CJK character, 7 any other), with …

    >>> fit("IDCARD_BAD_CHECK", 160), fit("柳州市市场监督管理局", 80)
    ('IDCARD_BAD_CHECK', '柳州市市场…')
    """
    used = 0
    for i, char in enumerate(text):
        used += 12 if ord(char) > 0x2E80 else 7
        if used > pixels:
            return text[: max(i - 1, 1)] + "…"
    return text


def _legend(entries: Sequence[tuple[str, str]], left: float, *, spacing: int) -> list[str]:
    """A colour square and a name per ``(name, color)``, in a row along the top."""
    body = []
    for i, (name, color) in enumerate(entries):
        x = left + i * spacing
        body.append(f'<rect x="{x}" y="6" width="12" height="12" fill="{color}"/>')
        body.append(_text(x + 18, 16, name))
    return body


def _svg(width: int, height: int, label: str, body: list[str]) -> str:
    return (
        f'<svg class="chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">'
        + "".join(body) + "</svg>"
    )  # fmt: skip


def bar_chart(
    items: Sequence[tuple[str, float | None]],
    *,
    value_text: Callable[[float], str],
    maximum: float | None = None,
    color: str = BLUE,
    label: str = "",
    width: int = 640,
    left: int = 170,
) -> str:
    """Horizontal bars, one per ``(label, value)``, scaled to ``maximum`` (default the largest);
    ``left`` is the width kept for the labels (12 px a character at most)."""
    row, right = 24, 70
    top = maximum if maximum is not None else max([v for _, v in items if v is not None] or [1]) or 1
    span = width - left - right
    body = []
    for i, (name, value) in enumerate(items):
        y = 8 + i * row
        body.append(_text(left - 8, y + 15, fit(name, left - 12), anchor="end"))
        body.append(f'<rect x="{left}" y="{y + 3}" width="{span}" height="{row - 8}" fill="#f1f3f6"/>')
        if value is None:
            body.append(_text(left + 6, y + 15, "—", fill="#777"))
            continue
        length = max(span * value / top, 1.0)
        body.append(f'<rect class="mark" data-value="{value}" x="{left}" y="{y + 3}" width="{length:.1f}" '
                    f'height="{row - 8}" fill="{color}"/>')  # fmt: skip
        body.append(_text(left + length + 6, y + 15, value_text(value)))
    return _svg(width, 16 + len(items) * row, label, body)


def line_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    *,
    label: str = "",
    width: int = 640,
    height: int = 240,
) -> str:
    """Lines of rates (0 to 1) over ``labels``, one per ``(name, values, color)``, with a legend."""
    left, right, top, bottom = 48, 40, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(labels) - 1, 1)
    body = []
    for tick in (0, 0.25, 0.5, 0.75, 1):
        y = top + plot_h * (1 - tick)
        body.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e6ea"/>')
        body.append(_text(left - 6, y + 4, f"{tick:.0%}", size=11, anchor="end", fill="#555"))
    for i, name in enumerate(labels):
        body.append(_text(left + i * step, height - bottom + 18, name, size=11, anchor="middle", fill="#555"))
    for _, values, color in series:
        points = [(left + i * step, top + plot_h * (1 - v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for (x, y), value in zip(points, [v for v in values if v is not None], strict=True):
            body.append(f'<circle class="mark" data-value="{value}" cx="{x:.1f}" cy="{y:.1f}" r="4" '
                        f'fill="{color}"/>')  # fmt: skip
    body += _legend([(name, color) for name, _, color in series], left, spacing=160)
    return _svg(width, height, label, body)


def column_chart(
    labels: Sequence[str],
    series: Sequence[tuple[str, Sequence[int], str]],
    *,
    label: str = "",
    width: int = 640,
    height: int = 240,
) -> str:
    """Stacked columns of counts over ``labels``, one segment per ``(name, values, color)``."""
    left, right, top, bottom = 64, 16, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    totals = [sum(values[i] for _, values, _ in series) for i in range(len(labels))]
    peak = max(totals or [0]) or 1
    slot = plot_w / max(len(labels), 1)
    body = [f'<line x1="{left}" y1="{top + plot_h}" x2="{width - right}" y2="{top + plot_h}" stroke="#999"/>',
            _text(left - 6, top + 4, f"{peak:,}", size=11, anchor="end", fill="#555")]  # fmt: skip
    for i, name in enumerate(labels):
        x, base = left + i * slot + slot * 0.2, top + plot_h
        for _, values, color in series:
            h = plot_h * values[i] / peak
            if values[i]:
                body.append(f'<rect class="mark" data-value="{values[i]}" x="{x:.1f}" y="{base - h:.1f}" '
                            f'width="{slot * 0.6:.1f}" height="{h:.1f}" fill="{color}"/>')  # fmt: skip
            base -= h
        body.append(_text(x + slot * 0.3, height - bottom + 18, name, size=11, anchor="middle", fill="#555"))
    body += _legend([(name, color) for name, _, color in series], left, spacing=120)
    return _svg(width, height, label, body)


def domain_grid(domains: Sequence[tuple[str, bool]], *, label: str = "", width: int = 640) -> str:
    """One cell per key domain, coloured when covered."""
    per_row, cell_w, cell_h = 5, width / 5, 40
    body = []
    for i, (name, covered) in enumerate(domains):
        x, y = (i % per_row) * cell_w, (i // per_row) * cell_h
        fill = GREEN if covered else GREY
        body.append(f'<rect class="mark" data-value="{int(covered)}" x="{x + 2:.1f}" y="{y + 2}" '
                    f'width="{cell_w - 4:.1f}" height="{cell_h - 4}" rx="4" fill="{fill}"/>')  # fmt: skip
        body.append(_text(x + cell_w / 2, y + 25, name, size=13, anchor="middle",
                          fill="#fff" if covered else "#333"))  # fmt: skip
    rows = (len(domains) + per_row - 1) // per_row
    return _svg(width, rows * cell_h + 4, label, body)
