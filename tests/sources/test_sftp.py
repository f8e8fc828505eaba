"""SFTP sources against a real OpenSSH sshd on a loopback port (see ``sshd_server``)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from growing_file import still_being_written
from sftp_upload import PBC, QUICK, upload
from source_deliveries import delivery_of
from sshd_server import SshdServer, keygen, sshd_server
from tcp_proxy import CuttingProxy

from etl.catalog import Catalog, SourceRef
from etl.demo_data import generate
from etl.errors import SourceError
from etl.sources import FetchOptions, run_source
from etl.sources.sftp import SftpState

# The environment bureau's penalties: /outgoing/xzcf/*.csv, marker .ok, no archive folder.
STHJ = "admin_penalty__sthj__sftp"


@pytest.fixture(scope="module")
def sshd() -> Iterator[SshdServer]:
    with sshd_server() as server:
        yield server


@pytest.fixture
def server(sshd: SshdServer, monkeypatch) -> Iterator[SshdServer]:
    sshd.clear()
    monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", sshd.connection())
    monkeypatch.setenv("AIRFLOW_CONN_SFTP_STHJ", sshd.connection())
    yield sshd
    sshd.clear()


@pytest.fixture(scope="module")
def big_delivery(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> tuple[Path, dict]:
    """A larger deposit-account file, so that a connection can be cut well inside the download."""
    out = tmp_path_factory.mktemp("big")
    manifest = generate(out, seed=9, rows=2500, sources=[PBC], defect_rate=0.0, catalog=catalog)
    (record,) = manifest["deliveries"]
    return out / record["path"], record


def run(ref: SourceRef, catalog, storage, warehouse, options: FetchOptions = QUICK):
    return run_source(ref, catalog=catalog, storage=storage, warehouse=warehouse, options=options)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def without_marker(ref: SourceRef) -> SourceRef:
    return dataclasses.replace(ref, source=ref.source.model_copy(update={"complete_marker": None}))


# -- pickup ----------------------------------------------------------------------------------------


def test_a_marked_file_is_downloaded_loaded_and_moved_to_the_archive_folder(
    server, demo, catalog, storage, warehouse
):
    source_file, record = delivery_of(demo, PBC)
    uploaded = upload(server, source_file, "/credit/jbzh")
    server.make_dirs("/credit/jbzh/done", writable=True)

    result = run(catalog.source(PBC), catalog, storage, warehouse)

    (loaded,) = result.results
    assert loaded.ledger.status == "loaded" and loaded.ledger.rows_loaded == record["rows"]
    assert loaded.ledger.sha256 == sha256(source_file) and loaded.ledger.file_name == source_file.name
    assert not uploaded.exists()
    assert sha256(server.path(f"/credit/jbzh/done/{source_file.name}")) == sha256(source_file)
    assert server.path(f"/credit/jbzh/done/{source_file.name}.ok").exists()
    assert run(catalog.source(PBC), catalog, storage, warehouse).results == []


def test_without_an_archive_folder_a_processed_file_is_left_and_remembered(
    server, demo, catalog, storage, warehouse
):
    source_file, record = delivery_of(demo, STHJ)
    uploaded = upload(server, source_file, "/outgoing/xzcf", writable=False)
    ref = catalog.source(STHJ)

    (loaded,) = run(ref, catalog, storage, warehouse).results
    assert loaded.ledger.rows_loaded == record["rows"] and uploaded.exists()

    again = run(ref, catalog, storage, warehouse)
    assert again.results == [] and again.report.skipped == [source_file.name]
    # Even with its memory lost, the poll finds the file's sha256 in the ledger and adds no row.
    storage.fs.delete_file(storage._full(SftpState.key(ref)))
    lost = run(ref, catalog, storage, warehouse)
    assert lost.results == [] and lost.report.skipped == [source_file.name]
    assert [r.status for r in warehouse.ledger()] == ["loaded"]


def test_an_account_that_may_not_write_leaves_the_file_and_remembers_it(
    server, demo, catalog, storage, warehouse, caplog
):
    source_file, _ = delivery_of(demo, PBC)
    uploaded = upload(server, source_file, "/credit/jbzh", writable=False)

    with caplog.at_level(logging.WARNING, logger="etl.sources.sftp"):
        (loaded,) = run(catalog.source(PBC), catalog, storage, warehouse).results

    assert loaded.ledger.status == "loaded" and uploaded.exists()
    assert "left there and remembered by sha256" in caplog.text
    assert run(catalog.source(PBC), catalog, storage, warehouse).report.skipped == [source_file.name]


# -- completeness ----------------------------------------------------------------------------------


def test_a_file_without_its_marker_is_not_taken(server, demo, catalog, storage, warehouse):
    source_file, _ = delivery_of(demo, PBC)
    upload(server, source_file, "/credit/jbzh", marker=None)

    result = run(catalog.source(PBC), catalog, storage, warehouse)

    assert result.results == [] and result.report.waiting == [source_file.name]
    assert storage.list("raw") == [] and warehouse.ledger() == []


def test_a_file_still_being_written_is_not_taken(server, demo, catalog, storage, warehouse):
    ref = without_marker(catalog.source(PBC))
    source_file, record = delivery_of(demo, PBC)
    content = source_file.read_bytes()
    target = server.make_dirs("/credit/jbzh", writable=True) / source_file.name
    with still_being_written(target, content, first=500, step=100):
        during = run(ref, catalog, storage, warehouse)
    assert during.results == [] and during.report.waiting == [source_file.name]
    assert storage.list("raw") == [] and warehouse.ledger() == []

    target.write_bytes(content)  # finished
    (taken,) = run(ref, catalog, storage, warehouse, dataclasses.replace(QUICK, wait_seconds=3.0)).results
    assert taken.ledger.rows_loaded == record["rows"]


# -- refusals --------------------------------------------------------------------------------------


def test_a_changed_host_key_is_refused(server, demo, catalog, storage, warehouse, monkeypatch, tmp_path):
    impostor = keygen(tmp_path / "impostor")
    monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", server.connection(host_key=impostor))
    source_file, _ = delivery_of(demo, PBC)
    uploaded = upload(server, source_file, "/credit/jbzh")

    refused = r"presented host key SHA256:\S+, not the pinned SHA256:\S+: refused"
    with pytest.raises(SourceError, match=refused):
        run(catalog.source(PBC), catalog, storage, warehouse)
    assert uploaded.exists() and storage.list("raw") == [] and warehouse.ledger() == []


def test_a_connection_without_a_pinned_host_key_is_never_opened(server, catalog, storage, warehouse,
                                                                monkeypatch):  # fmt: skip
    unpinned = json.loads(server.connection())
    del unpinned["extra"]["host_key"]
    unpinned["extra"]["no_host_key_check"] = True  # what Airflow would take as "accept any key"
    monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", json.dumps(unpinned))
    log = server.home / "sshd.log"
    connections = log.read_text().count("Connection from")
    with pytest.raises(SourceError, match="no pinned host key"):
        run(catalog.source(PBC), catalog, storage, warehouse)
    assert log.read_text().count("Connection from") == connections  # not even a TCP connection


def test_links_and_unsafe_names_on_the_server_are_refused_unread(server, demo, catalog, storage, warehouse):
    source_file, _ = delivery_of(demo, PBC)
    folder = server.make_dirs("/credit/jbzh", writable=True)
    (folder / "jbzh_link.csv").symlink_to("/etc/passwd")
    upload(server, source_file, "/credit/jbzh", name="jbzh_\x1b.csv")

    result = run(catalog.source(PBC), catalog, storage, warehouse)

    assert sorted((r.name, r.reason) for r in result.report.refused) == [
        ("jbzh_\\x1b.csv", "CONTROL_CHARACTER"), ("jbzh_link.csv", "SYMLINK")]
    assert result.results == [] and storage.list("raw") == []


# -- dropped connections ---------------------------------------------------------------------------


def test_a_connection_cut_mid_transfer_is_resumed_and_only_the_whole_file_processed(
    server, big_delivery, catalog, storage, warehouse, monkeypatch, caplog
):
    source_file, record = big_delivery
    size = source_file.stat().st_size
    upload(server, source_file, "/credit/jbzh")
    server.make_dirs("/credit/jbzh/done", writable=True)
    proxy = CuttingProxy(("127.0.0.1", server.port), cut_after=size * 2 // 5, cut={0})

    with proxy.running(), caplog.at_level(logging.WARNING, logger="etl.sources.sftp"):
        monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", server.connection(port=proxy.port))
        result = run(catalog.source(PBC), catalog, storage, warehouse)

    assert proxy.cuts == 1 and proxy.connections >= 2
    resumed_at = int(re.search(r"interrupted at byte (\d+) of \d+ .*; resuming", caplog.text)[1])
    assert 0 < resumed_at < size
    # Resumed, not restarted: the second connection carried the rest of the file (and the SSH
    # handshake, listing and stat), not the whole file again.
    assert proxy.bytes_down[1] < size - resumed_at + 40_000
    (loaded,) = result.results
    assert loaded.ledger.sha256 == sha256(source_file) and loaded.ledger.size_bytes == size
    assert loaded.ledger.rows_loaded == record["rows"]
    assert [r.status for r in warehouse.ledger()] == ["loaded"]
    assert server.path(f"/credit/jbzh/done/{source_file.name}").exists()


def test_a_download_that_keeps_failing_processes_nothing(
    server, big_delivery, catalog, storage, warehouse, monkeypatch
):
    source_file, _ = big_delivery
    uploaded = upload(server, source_file, "/credit/jbzh")
    size = source_file.stat().st_size
    proxy = CuttingProxy(("127.0.0.1", server.port), cut_after=size // 3, cut={0, 1, 2, 3})

    with proxy.running():
        monkeypatch.setenv("AIRFLOW_CONN_SFTP_PBC", server.connection(port=proxy.port))
        with pytest.raises(SourceError, match=r"download of /credit/jbzh/\S+ from .* failed 3 times"):
            run(catalog.source(PBC), catalog, storage, warehouse,
                dataclasses.replace(QUICK, download_attempts=3))  # fmt: skip

    assert proxy.cuts == 3
    assert storage.list("raw") == [] and warehouse.ledger() == []
    assert uploaded.exists() and Path(f"{uploaded}.ok").exists()


def test_a_file_that_changed_since_it_was_listed_is_left_for_a_later_poll(server, demo, tmp_path):
    from etl.sources import sftp
    from etl.sources.connections import parse_connection

    source_file, _ = delivery_of(demo, PBC)
    uploaded = upload(server, source_file, "/credit/jbzh")
    size, mtime = uploaded.stat().st_size, int(uploaded.stat().st_mtime)
    session = sftp.Session(parse_connection("sftp_pbc", server.connection()), timeout=10)
    report = sftp.FetchReport()
    try:
        for listed in (sftp.RemoteFile(uploaded.name, size, mtime - 60),  # touched since the listing
                       sftp.RemoteFile(uploaded.name, size + 100, mtime)):  # shorter than listed
            assert sftp._fetch_file(session, "/credit/jbzh", listed, tmp_path, QUICK, report) is None
        whole = sftp._fetch_file(session, "/credit/jbzh", sftp.RemoteFile(uploaded.name, size, mtime),
                                 tmp_path, QUICK, report)  # fmt: skip
    finally:
        session.close()
    assert report.waiting == [uploaded.name, uploaded.name]
    assert whole is not None and sha256(whole) == sha256(source_file)
