"""The report page in real headless Chromium: it paints (the screenshot is not blank and shows the
charts' colours), every chart draws its marks, nothing is requested from anywhere but the file
itself, it prints, and its text shows no identity number unmasked."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from chromium import Browser, decode_png
from report_fixture import BAD_ID, VALID_ID

from etl.report.svg import BLUE, GREEN

IDENTITY = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")

CHARTS_JS = """
Array.from(document.querySelectorAll('svg.chart')).map(svg => {
  const box = svg.getBoundingClientRect();
  const marks = Array.from(svg.querySelectorAll('.mark')).map(m => {
    const b = m.getBBox(); return [b.width, b.height];
  });
  return {label: svg.getAttribute('aria-label'), width: box.width, height: box.height, marks: marks};
})
"""


@pytest.fixture(scope="module")
def report_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page does not depend on the backend (test_report_figures compares both): DuckDB only."""
    return f"duckdb:///{tmp_path_factory.mktemp('duckdb')}/warehouse.duckdb"


@pytest.fixture(scope="module")
def page(built, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    browser = Browser(tmp_path_factory.mktemp("chromium-profile"))
    try:
        browser.open(built.files.html.as_uri())
        yield browser
    finally:
        browser.close()


def expected_marks(metrics: dict) -> dict[str, int]:
    """Marks each chart must draw: one per value that is not missing (columns: per non-zero count)."""
    departments, trend = metrics["departments"], metrics["trend"]
    return {
        "重点领域覆盖": len(metrics["overview"]["key_domains"]),
        "各部门综合得分": sum(d["score"] is not None for d in departments),
        "各部门入库通过率": sum(d["pass_rate"] is not None for d in departments),
        "拒收原因出现次数": len(metrics["reasons"]),
        "入库与拒收行数": sum(bool(t["rows_loaded"]) + bool(t["rows_rejected"]) for t in trend),
        "通过率趋势": sum((t["pass_rate"] is not None) + (t["on_time_rate"] is not None) for t in trend),
    }


def test_every_chart_draws_its_marks(page, built):
    charts = page.evaluate(CHARTS_JS)
    expected = expected_marks(built.metrics)
    assert {c["label"]: len(c["marks"]) for c in charts} == expected
    assert all(n > 0 for n in expected.values())
    for chart in charts:
        assert chart["width"] > 100 and chart["height"] > 30, chart["label"]
        assert all(w > 0 and h > 0 for w, h in chart["marks"]), chart


def test_the_screenshot_is_not_blank_and_shows_the_charts(page):
    width, height, rows = decode_png(page.screenshot())
    assert width == 1200 and height > 1000, (width, height)
    bpp = len(rows[0]) // width
    colours = {row[i:i + 3] for row in rows[::2] for i in range(0, len(row), bpp * 2)}
    assert len(colours) > 50, "a page of text and charts has many distinct colours"
    drawn = {bytes.fromhex(c[1:]) for c in (BLUE, GREEN)}
    assert drawn <= colours, "the cards' figures (blue) and covered domains (green) are painted"


def test_no_request_leaves_the_machine(page, built):
    assert page.requests, "the navigation itself is recorded"
    assert all(url.startswith("file://") for url in page.requests), page.requests
    html = built.files.html.read_text(encoding="utf-8")
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "no external URL in the page"


def test_the_text_shows_no_identity_number_unmasked(page):
    text = page.evaluate("document.body.innerText")
    assert "行政处罚信息" in text and "重错码率" in text and "纠正率" in text
    assert BAD_ID[:4] + "*" * 10 + BAD_ID[-4:] in text, "the rejected identity number shows, masked"
    assert BAD_ID not in text and VALID_ID not in text
    assert IDENTITY.findall(text) == []


def test_it_prints(page):
    pdf = page.pdf()
    assert pdf.startswith(b"%PDF")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) >= 2
