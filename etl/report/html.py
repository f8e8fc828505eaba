"""The report as one self-contained HTML page in Simplified Chinese: inline CSS and SVG charts, no
script and no external URL, so it opens offline and prints cleanly (A4 landscape).

The page shows the tables of ``etl.report.tables`` (the same as the workbook's sheets) and the
charts of ``etl.report.svg`` beside them; quality-dimension cells are shaded by their rate.
Everything is rendered through Jinja2 with autoescaping; only the SVG built here is inserted as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from etl.report import svg
from etl.report.tables import DIMENSION_COLUMNS, LINK, RATE, TEXT, Section, cell_text, kind_of, sections

TEMPLATE = """<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
  body { font-family: "Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", sans-serif; color: #222;
         margin: 0 auto; max-width: 1180px; padding: 24px; line-height: 1.5; }
  h1 { font-size: 24px; margin: 0 0 4px; } h2 { font-size: 18px; margin: 28px 0 8px;
  border-left: 4px solid #2f6db5; padding-left: 8px; }
  .meta { color: #555; font-size: 13px; }
  .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
  .card { border: 1px solid #dde2e8; border-radius: 6px; padding: 10px 14px; min-width: 130px; }
  .card b { display: block; font-size: 22px; color: #2f6db5; } .card span { font-size: 12px; color: #555; }
  .charts { display: flex; flex-wrap: wrap; gap: 16px; }
  figure { margin: 8px 0; } figcaption { font-size: 13px; color: #555; }
  table { border-collapse: collapse; width: 100%; font-size: 12px; margin: 6px 0 12px; }
  th, td { border: 1px solid #dde2e8; padding: 4px 6px; text-align: left; vertical-align: top; }
  th { background: #f1f3f6; } td.num { text-align: right; white-space: nowrap; }
  .scroll { overflow-x: auto; } .empty { color: #777; }
  @page { size: A4 landscape; margin: 12mm; }
  @media print {
    body { max-width: none; padding: 0; } .scroll { overflow: visible; }
    h2 { break-after: avoid; } figure, tr { break-inside: avoid; }
    a { color: inherit; text-decoration: none; }
  }
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p class="meta">统计期：{{ period.start }} 至 {{ period.end }}（上海时间）；生成时间：{{ generated_at }}；
超期情况截至 {{ breaches_as_of }}。</p>
<div class="cards">
{% for value, label in cards %}<div class="card"><b>{{ value }}</b><span>{{ label }}</span></div>{% endfor %}
</div>
{% for section in sections %}
<section id="{{ section.id }}">
<h2>{{ section.title }}</h2>
{% for caption, chart in charts.get(section.id, []) %}
<figure>{% if chart %}{{ chart | safe }}{% else %}<p class="empty">{{ caption }}：本期无数据</p>{% endif %}
<figcaption>{{ caption }}</figcaption></figure>
{% endfor %}
{% if section.rows %}
<div class="scroll"><table>
<thead><tr>{% for column in section.columns %}<th>{{ column.title }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in section.rows %}<tr>{% for column in section.columns %}{{ cell(row, column) }}{% endfor %}</tr>
{% endfor %}
</tbody></table></div>
{% else %}<p class="empty">本期无{{ section.title }}。</p>{% endif %}
</section>
{% endfor %}
</body>
</html>
"""

_DIMENSIONS = {c.key for c in DIMENSION_COLUMNS}


def _shade(value: float) -> str:
    """Green for 100 %, through yellow, to red at 80 % and below."""
    worst = 0.8
    t = min(max((value - worst) / (1 - worst), 0.0), 1.0)
    red, green = (round(250 - 120 * t), round(200 + 40 * t)) if t > 0.5 else (250, round(160 + 80 * t))
    return f"rgb({red},{green},190)"


def _cell(row: Mapping[str, Any], column: Any) -> Any:
    from markupsafe import Markup, escape

    value, kind = row.get(column.key), kind_of(row, column)
    text = cell_text(value, kind)
    if kind == LINK and value:
        return Markup('<td><a href="{}">{}</a></td>').format(value, text)
    style = ""
    if column.key in _DIMENSIONS and value is not None:
        style = f' style="background:{_shade(value)}"'
    css = ' class="num"' if kind not in (TEXT, LINK) else ""
    return Markup(f"<td{css}{style}>{escape(text)}</td>")


def _rate(value: float) -> str:
    return f"{value:.1%}"


def charts(metrics: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Section id -> (caption, SVG or '' when there is nothing to draw)."""
    overview, departments = metrics["overview"], metrics["departments"]
    trend, reasons = metrics["trend"], metrics["reasons"]
    named = [(d["short_name"], d) for d in departments]
    labels = [t["period"] for t in trend]
    domains = [(d["domain"], d["covered"]) for d in overview["key_domains"]]
    return {
        "domains": [("规划20个重点领域的数据覆盖（绿色为统计期内有成功报送）",
                     svg.domain_grid(domains, label="重点领域覆盖"))],
        "departments": [
            ("各部门综合得分", svg.bar_chart([(n, d["score"]) for n, d in named], maximum=100,
                                          value_text=lambda v: f"{v:.1f}", label="各部门综合得分")
             if named else ""),
            ("各部门入库通过率", svg.bar_chart([(n, d["pass_rate"]) for n, d in named], maximum=1,
                                           value_text=_rate, color=svg.GREEN, label="各部门入库通过率")
             if named else ""),
        ],
        "reasons": [("拒收原因出现次数", svg.bar_chart([(r["rule"], r["reasons"]) for r in reasons],
                                                   value_text=lambda v: f"{v:,.0f}", color=svg.ORANGE,
                                                   label="拒收原因出现次数", width=720, left=250)
                       if reasons else "")],
        "trend": [
            ("近六期入库行数与拒收行数", svg.column_chart(
                labels, [("入库行数", [t["rows_loaded"] for t in trend], svg.BLUE),
                         ("拒收行数", [t["rows_rejected"] for t in trend], svg.RED)],
                label="入库与拒收行数")),
            ("近六期入库通过率与按时报送率", svg.line_chart(
                labels, [("入库通过率", [t["pass_rate"] for t in trend], svg.GREEN),
                         ("按时报送率", [t["on_time_rate"] for t in trend], svg.BLUE)], label="通过率趋势")),
        ],
    }  # fmt: skip


def _cards(metrics: Mapping[str, Any]) -> list[tuple[str, str]]:
    o = metrics["overview"]
    return [
        (f"{o['deliveries']:,}", "报送次数"),
        (f"{o['rows_read']:,}", "报送数据行数"),
        (cell_text(o["pass_rate"], RATE), "入库通过率"),
        (f"{o['datasets_reporting']}/{o['datasets_total']}", "报送数据集"),
        (f"{o['departments_reporting']}/{o['departments_total']}", "报送部门"),
        (f"{o['key_domains_covered']}/{o['key_domains_total']}", "覆盖重点领域"),
    ]


def render_html(metrics: Mapping[str, Any], tables: list[Section] | None = None) -> str:
    """The whole page for ``metrics`` (``etl.report.metrics.compute``)."""
    import jinja2

    environment = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = environment.from_string(TEMPLATE)
    return template.render(
        title=f"公共信用信息报送质量报告（{metrics['period']['label']}）",
        period=metrics["period"],
        generated_at=metrics["generated_at"][:16].replace("T", " "),
        breaches_as_of=metrics["breaches_as_of"],
        cards=_cards(metrics),
        sections=tables if tables is not None else sections(metrics),
        charts=charts(metrics),
        cell=_cell,
    )
