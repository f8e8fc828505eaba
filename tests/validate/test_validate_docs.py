"""Data Docs: GX's site builder renders every suite, with the custom expectations and Chinese messages."""

from __future__ import annotations

import html
import re

import pytest

from etl.cli import main
from etl.validate import build_data_docs
from etl.validate.docs import page_path


def page_text(path) -> str:
    text = re.sub(r"<[^>]+>", " ", path.read_text(encoding="utf-8"))
    return re.sub(r"\s+", " ", html.unescape(text))


@pytest.fixture(scope="module")
def site(tmp_path_factory, catalog):
    out = tmp_path_factory.mktemp("docs")
    datasets = [catalog.datasets["admin_penalty"], catalog.datasets["legal_entity_basic"]]
    return build_data_docs(out, datasets=datasets)


def test_one_page_per_dataset_and_an_index(site):
    out = site.parent
    assert site.name == "index.html"
    assert sorted(p.name for p in (out / "expectations").glob("*.html")) == [
        "admin_penalty.html",
        "legal_entity_basic.html",
    ]
    assert (out / page_path("admin_penalty")).is_file()
    assert "admin_penalty" in site.read_text(encoding="utf-8")


def test_page_shows_custom_expectations_and_clerk_messages(site):
    text = page_text(site.parent / page_path("admin_penalty"))
    assert "uscc values must be valid unified social credit codes" in text
    assert "If id_type == 身份证 , then id_no values must be valid resident identity numbers" in text
    assert "fine_amount must be filled if penalty_types contains 罚款" in text
    assert "At least one of uscc, regno, orgcode" in text
    assert "处罚决定日期（decision_date） required ：处罚决定日期为必填项，请补充" in text
    # doubled braces of the templates are shown as the catalog wrote them
    assert "^[0-9A-Z]{15,20}$" in text and "{{" not in text


def test_cli_renders_the_whole_catalog(tmp_path, capsys):
    assert main(["expectations", "docs", "--out", str(tmp_path)]) == 0
    assert f"Data Docs: {tmp_path / 'index.html'}" in capsys.readouterr().out
    assert len(list((tmp_path / "expectations").glob("*.html"))) == 18
