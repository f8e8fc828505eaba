"""Data Docs: the expectation suites as static HTML, built by GX's own site builder.

One page per dataset at ``<out>/expectations/<dataset>.html`` (``page_path``), plus ``index.html``;
the NDRC report links each dataset to its page. Each page lists GX's rendering of every expectation
and, in its notes, a table of the Chinese messages a department clerk receives for each rule.

Building needs no network: GX writes its static files (CSS, images, fonts) into ``out``. The pages
do reference JavaScript and CSS on public CDNs (Bootstrap, jQuery, Vega), as GX's templates always
do; a browser without internet access shows them unstyled but complete.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from etl.catalog import Catalog, Dataset
from etl.validate import suites

SITE_NAME = "credit_etl"


def page_path(dataset_id: str) -> str:
    """The page of a dataset's suite, relative to the Data Docs directory."""
    return f"expectations/{dataset_id}.html"


def build_data_docs(
    out_dir: Path,
    *,
    catalog: Catalog | None = None,
    datasets: Iterable[Dataset] | None = None,
    suites_dir: Path = suites.DEFAULT_SUITES_DIR,
) -> Path:
    """Render the suites of ``datasets`` (default: every dataset of the catalog); returns index.html."""
    import great_expectations as gx

    import etl.validate.gx_expectations  # noqa: F401  (their renderers)

    if datasets is None:
        from etl.catalog import load_catalog

        datasets = (catalog or load_catalog()).datasets.values()
    out_dir = Path(out_dir).resolve()
    out_dir.mkdir(parents=True, exist_ok=True)
    # A context of its own, so that building docs leaves the validation context's stores alone.
    context = gx.get_context(mode="ephemeral")
    context.add_data_docs_site(
        SITE_NAME,
        {
            "class_name": "SiteBuilder",
            "show_how_to_buttons": False,
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(out_dir)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        },
    )
    for dataset in datasets:
        suite = with_message_table(suites.load_suite(dataset.id, suites_dir), dataset)
        context.suites.add(gx.ExpectationSuite(**suite))
    context.build_data_docs(site_names=[SITE_NAME])
    return out_dir / "index.html"


def with_message_table(suite: dict[str, Any], dataset: Dataset) -> dict[str, Any]:
    """The suite with notes that list, per rule, the message a clerk reads (a Markdown list)."""
    metas = [e["meta"] for e in suite["expectations"]] + [suite["meta"]["credit_etl"]["dedup"]]
    lines = [
        f"- **{_title(dataset, meta['field'])}** `{meta['rule']}`：{_plain(meta['message'])}"
        for meta in metas
    ]
    documented = copy.deepcopy(suite)
    documented["notes"] = [suite["notes"], "**给报送单位的提示（按规则）**", "\n".join(lines)]
    return documented


def _title(dataset: Dataset, field: str) -> str:
    return f"{dataset.field(field).title}（{field}）"


def _plain(text: str) -> str:
    """A message template as text: doubled braces undone, Markdown's special characters escaped."""
    text = text.replace("{{", "{").replace("}}", "}")
    for char in "\\`*_[]<>":
        text = text.replace(char, "\\" + char)
    return text
