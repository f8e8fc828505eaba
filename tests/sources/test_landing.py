"""Landing zones on a real directory tree: completeness, claims, archive by outcome, refusals."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from growing_file import still_being_written
from source_deliveries import delivery_of

from etl.catalog import Catalog, SourceRef
from etl.pipeline import process_drop
from etl.sources import FetchOptions, FetchReport, run_source
from etl.sources import landing as landing_module
from etl.sources.landing import Zone, claimed_name
from etl.sources.names import unsafe_reason
from etl.sources.stability import FileStat, Observation, is_complete

SOURCE = "admin_penalty__wjw__landing"
# A tiny stability interval, waited for within the run.
QUICK = FetchOptions(stable_seconds=0.2, wait_seconds=1.0)


@pytest.fixture
def ref(catalog: Catalog) -> SourceRef:
    return catalog.source(SOURCE)


@pytest.fixture
def zone(tmp_path: Path, ref: SourceRef) -> Zone:
    zone = Zone.for_source(tmp_path / "landing", ref)
    zone.ensure()
    return zone


def run(ref, zone, catalog, storage, warehouse, options=QUICK):
    return run_source(ref, catalog=catalog, storage=storage, warehouse=warehouse, options=options,
                      landing_root=zone.root.parent.parent)


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def with_marker(ref: SourceRef, marker: str) -> SourceRef:
    return dataclasses.replace(ref, source=ref.source.model_copy(update={"complete_marker": marker}))


# -- decisions -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("行政处罚信息_市卫健委_20261127.csv", None),
        ("report (1).xlsx", None),
        ("..", "RESERVED_NAME"),
        ("a/b.csv", "PATH_SEPARATOR"),
        ("..\\..\\boot.ini", "PATH_SEPARATOR"),
        ("bad\x1b[31m.csv", "CONTROL_CHARACTER"),
        ("invoice\u202eslx.csv", "CONTROL_CHARACTER"),
        ("zero\u200bwidth.csv", "CONTROL_CHARACTER"),
        ("gbk\udcb2\udce2.csv", "NOT_UTF8"),
        ("长" * 90 + ".csv", "NAME_TOO_LONG"),
    ],
)
def test_unsafe_names_are_recognised(name, reason):
    assert unsafe_reason(name) == reason


def test_a_file_is_complete_only_when_unchanged_for_the_interval():
    seen = Observation(FileStat(100, 5), since=10.0)
    assert not is_complete(seen, FileStat(100, 5), now=10.5, interval=1.0)
    assert is_complete(seen, FileStat(100, 5), now=11.0, interval=1.0)
    assert not is_complete(seen, FileStat(100, 6), now=50.0, interval=1.0)  # touched, same size
    assert not is_complete(seen, FileStat(120, 5), now=50.0, interval=1.0)


# -- pickup and archive ----------------------------------------------------------------------------


def test_a_stable_file_is_loaded_archived_and_answered_in_the_outbox(
    demo, ref, zone, catalog, storage, warehouse
):
    source_file, record = delivery_of(demo, SOURCE)
    incoming = zone.incoming / source_file.name
    shutil.copy(source_file, incoming)
    digest = sha256(incoming)

    result = run(ref, zone, catalog, storage, warehouse)

    (loaded,) = result.results
    assert loaded.ledger.status == "loaded"
    assert loaded.ledger.rows_loaded == record["rows"]
    assert loaded.ledger.sha256 == digest and loaded.ledger.file_name == source_file.name
    day = loaded.ledger.received_at.date().isoformat()
    assert files_under(zone.archive) == [f"{day}/{digest}__{source_file.name}"]
    assert sha256(zone.archive / day / f"{digest}__{source_file.name}") == digest
    assert files_under(zone.incoming) == [] and files_under(zone.processing) == []
    outbox = files_under(zone.outbox)
    assert [Path(n).suffix for n in outbox] == [".csv", ".xlsx"]
    assert all(n.endswith(f".{digest[:8]}.反馈{Path(n).suffix}") for n in outbox)
    assert storage.exists(f"raw/{digest[:2]}/{digest}")
    assert run(ref, zone, catalog, storage, warehouse).results == []  # nothing left to take


def test_the_same_bytes_again_are_recorded_as_a_duplicate_not_loaded(
    demo, ref, zone, catalog, storage, warehouse
):
    source_file, _ = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "first.csv")
    (first,) = run(ref, zone, catalog, storage, warehouse).results
    before = warehouse.table_snapshot("admin_penalty")
    shutil.copy(source_file, zone.incoming / "again.csv")

    (again,) = run(ref, zone, catalog, storage, warehouse).results

    assert again.ledger.status == "duplicate"
    assert again.ledger.rows_loaded == 0
    assert warehouse.table_snapshot("admin_penalty").equals(before)
    day = again.ledger.received_at.date().isoformat()
    assert f"{day}/{first.ledger.sha256}__again.csv" in files_under(zone.archive)
    notes = [n for n in files_under(zone.outbox) if n.endswith("重复报送说明.txt")]
    assert notes == [f"again.{first.ledger.sha256[:8]}.重复报送说明.txt"]
    text = (zone.outbox / notes[0]).read_text(encoding="utf-8-sig")
    assert "未重复入库" in text and f"台账 {first.ledger.ledger_id}" in text


def test_a_file_rejected_whole_goes_to_rejected_with_feedback(ref, zone, catalog, storage, warehouse):
    (zone.incoming / "说明.csv").write_text("随便写的一行\n另一行\n", encoding="utf-8")

    (result,) = run(ref, zone, catalog, storage, warehouse).results

    assert result.ledger.status == "rejected"
    day = result.ledger.received_at.date().isoformat()
    assert files_under(zone.rejected) == [f"{day}/{result.ledger.sha256}__说明.csv"]
    assert files_under(zone.archive) == []
    assert len([n for n in files_under(zone.outbox) if "反馈" in n]) == 2


# -- completeness ----------------------------------------------------------------------------------


def test_a_new_file_is_not_taken_before_it_has_been_seen_unchanged_for_the_interval(
    demo, ref, zone, catalog, storage, warehouse
):
    source_file, _ = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "a.csv")
    no_wait = FetchOptions(stable_seconds=0.3, wait_seconds=0)

    first = run(ref, zone, catalog, storage, warehouse, no_wait)
    assert first.results == [] and first.report.waiting == ["a.csv"]
    assert "a.csv" in (zone.root / ".credit-etl-state.json").read_text(encoding="utf-8")
    time.sleep(0.35)
    (taken,) = run(ref, zone, catalog, storage, warehouse, no_wait).results
    assert taken.ledger.file_name == "a.csv" and taken.ledger.status == "loaded"


def test_a_file_still_being_written_is_not_taken(demo, ref, zone, catalog, storage, warehouse):
    source_file, _ = delivery_of(demo, SOURCE)
    content = source_file.read_bytes()
    with still_being_written(zone.incoming / "growing.csv", content, first=200, step=200):
        during = run(ref, zone, catalog, storage, warehouse)
    assert during.results == [] and during.report.waiting == ["growing.csv"]
    assert files_under(zone.incoming) == ["growing.csv"]
    assert warehouse.ledger() == []


def test_with_a_marker_a_file_waits_for_its_marker_which_is_then_removed(
    demo, ref, zone, catalog, storage, warehouse
):
    ref = with_marker(ref, ".ok")
    source_file, _ = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "b.csv")

    waiting = run(ref, zone, catalog, storage, warehouse)
    assert waiting.results == [] and waiting.report.waiting == ["b.csv"]
    (zone.incoming / "b.csv.ok").write_bytes(b"")
    (taken,) = run(ref, zone, catalog, storage, warehouse, FetchOptions(stable_seconds=3600)).results
    assert taken.ledger.status == "loaded"
    assert files_under(zone.incoming) == []


# -- refusals --------------------------------------------------------------------------------------


def test_links_and_what_is_not_a_file_are_rejected_unread_with_a_ledger_row_and_feedback(
    demo, ref, zone, catalog, storage, warehouse, tmp_path
):
    secret = tmp_path / "outside" / "secret.csv"
    secret.parent.mkdir()
    shutil.copy(delivery_of(demo, SOURCE)[0], secret)
    secret_bytes = secret.read_bytes()
    os.symlink(secret, zone.incoming / "link.csv")
    os.symlink("../../../../outside/secret.csv", zone.incoming / "relative.csv")
    os.link(secret, zone.incoming / "hard.csv")
    os.link(secret, zone.incoming / "hard\x07name.csv")  # a hard link stays unread whatever its name
    (zone.incoming / "folder").mkdir()

    result = run(ref, zone, catalog, storage, warehouse)

    assert sorted((r.name, r.reason) for r in result.report.refused) == [
        ("folder", "NOT_A_FILE"),
        ("hard.csv", "HARDLINK"),
        ("hard\\x07name.csv", "HARDLINK"),
        ("link.csv", "SYMLINK"),
        ("relative.csv", "SYMLINK"),
    ]
    assert not result.ok
    assert os.listdir(zone.incoming) == [] and os.listdir(zone.processing) == []
    moved = [Path(r.moved_to) for r in result.report.refused]
    assert all(p.parent.parent == zone.rejected for p in moved)
    assert sum(p.is_symlink() for p in moved) == 2  # the links themselves, never their targets
    assert secret.read_bytes() == secret_bytes and os.stat(secret).st_nlink == 3  # left where it was

    # Each entry is a delivery rejected whole: a ledger row, the raw kept under its sha256, feedback.
    rows = {r.ledger.file_name: r for r in result.results}
    assert sorted((name, r.ledger.status, r.ledger.error_reason) for name, r in rows.items()) == [
        ("folder", "rejected", "DIRECTORY_REFUSED"),
        ("hard.csv", "rejected", "HARD_LINK_REFUSED"),
        ("hard\\x07name.csv", "rejected", "HARD_LINK_REFUSED"),
        ("link.csv", "rejected", "LINK_REFUSED"),
        ("relative.csv", "rejected", "LINK_REFUSED"),
    ]
    assert len(warehouse.ledger()) == 5 and warehouse.table_snapshot("admin_penalty").num_rows == 0
    kept = {}
    for name, r in rows.items():
        with storage.open_read(f"raw/{r.ledger.sha256[:2]}/{r.ledger.sha256}") as handle:
            kept[name] = handle.read()
        assert hashlib.sha256(kept[name]).hexdigest() == r.ledger.sha256
        assert secret_bytes not in kept[name]  # never the content of the file a link shares
        for key in (r.feedback.xlsx_key, r.feedback.csv_key):
            assert (zone.outbox / key.rsplit("/", 1)[1]).is_file()
    # A link is kept as its own text; its target is shown escaped, never followed.
    assert kept["link.csv"] == os.fsencode(secret)
    assert kept["relative.csv"] == b"../../../../outside/secret.csv"
    assert "“../../../../outside/secret.csv”" in rows["relative.csv"].ledger.error_message
    assert "落地目录中的链接不会被跟随" in rows["link.csv"].ledger.error_message
    # The others are kept as a description of what was found, saying it is not the content.
    described = json.loads(kept["hard\\x07name.csv"])
    assert described["description_of"] == "hard\\x07name.csv" and described["link_count"] == 3
    assert described["size_bytes"] == len(secret_bytes) and "不是该项的内容" in described["note"]
    assert json.loads(kept["folder"])["kind"] == "directory"
    assert "请勿在落地目录中放置文件夹" in rows["folder"].ledger.error_message
    # The clerk's note is written as before, beside the feedback files.
    notes = [n for n in files_under(zone.outbox) if n.endswith("未接收说明.txt")]
    assert len(notes) == 5
    texts = "".join((zone.outbox / n).read_text(encoding="utf-8-sig") for n in notes)
    assert "符号链接" in texts and "硬链接" in texts and "不是普通文件" in texts

    # Moved out of incoming/: a second poll records nothing more.
    again = run(ref, zone, catalog, storage, warehouse)
    assert again.results == [] and again.report.refused == [] and len(warehouse.ledger()) == 5


def test_a_fifo_is_rejected_without_being_opened(demo, ref, zone, catalog, storage, warehouse):
    os.mkfifo(zone.incoming / "pipe.csv")  # opening it to read would block the poll for ever

    (result,) = run(ref, zone, catalog, storage, warehouse).results

    assert (result.ledger.status, result.ledger.error_reason) == ("rejected", "SPECIAL_FILE_REFUSED")
    with storage.open_read(f"raw/{result.ledger.sha256[:2]}/{result.ledger.sha256}") as handle:
        assert json.loads(handle.read())["kind"] == "fifo_or_device"
    (moved,) = [p for p in zone.rejected.rglob("*pipe.csv") if p.is_fifo()]  # moved aside, unopened
    assert moved.parent.parent == zone.rejected and os.listdir(zone.incoming) == []


def test_a_refused_entry_left_as_a_claim_by_a_stopped_worker_is_rejected_by_the_next_poll(
    ref, zone, catalog, storage, warehouse, tmp_path
):
    os.symlink(tmp_path / "elsewhere.csv", zone.incoming / "link.csv")
    pickups = landing_module.pickups(ref, zone.root.parent.parent, storage, QUICK, FetchReport())
    crashed = next(pickups)
    assert crashed.drop.refused == "LINK_REFUSED"
    crashed.abandon()
    pickups.close()
    (claim,) = os.listdir(zone.processing)
    assert landing_module.refused_claim(claim) == ("LINK_REFUSED", "link.csv")

    (recovered,) = run(ref, zone, catalog, storage, warehouse).results

    assert (recovered.ledger.status, recovered.ledger.error_reason) == ("rejected", "LINK_REFUSED")
    assert os.listdir(zone.processing) == [] and len(warehouse.ledger()) == 1


def test_a_file_with_an_unsafe_name_is_kept_and_rejected_unread_with_feedback(
    demo, ref, zone, catalog, storage, warehouse
):
    source_file, _ = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "bad\x07name.csv")
    shutil.copy(source_file, zone.incoming / "gbk\udcb2\udce2.csv")  # bytes that are not UTF-8
    digest = sha256(source_file)

    result = run(ref, zone, catalog, storage, warehouse)

    assert result.report.refused == [] and result.report.waiting == []
    rows = sorted((r.ledger.file_name, r.ledger.status, r.ledger.error_reason) for r in result.results)
    assert rows == [("bad\\x07name.csv", "rejected", "UNSAFE_FILE_NAME"),
                    ("gbk\\xb2\\xe2.csv", "rejected", "UNSAFE_FILE_NAME")]  # each arrival its own row
    assert [r.status for r in warehouse.ledger()] == ["rejected", "rejected"]
    assert warehouse.table_snapshot("admin_penalty").num_rows == 0
    messages = [r.ledger.error_message for r in result.results]
    assert all(("控制字符" in m or "编码无法识别" in m) and "重新报送" in m for m in messages)
    assert storage.exists(f"raw/{digest[:2]}/{digest}")  # the bytes are kept
    day = result.results[0].ledger.received_at.date().isoformat()
    kept = [f"{day}/{digest}__bad_x07name.csv", f"{day}/{digest}__gbk_xb2_xe2.csv"]
    assert files_under(zone.rejected) == kept
    assert files_under(zone.incoming) == [] and files_under(zone.processing) == []
    outbox = files_under(zone.outbox)
    assert len(outbox) == 4 and all(unsafe_reason(n) is None for n in outbox)
    # The stability state keeps a name that is not UTF-8 as the bytes it was.
    state = (zone.root / ".credit-etl-state.json").read_text(encoding="utf-8", errors="surrogateescape")
    assert set(json.loads(state)["files"]) == {"bad\x07name.csv", "gbk\udcb2\udce2.csv"}


def test_the_same_bytes_renamed_after_a_name_rejection_are_loaded_not_a_duplicate(
    demo, ref, zone, catalog, storage, warehouse
):
    source_file, record = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "..\\行政处罚.csv")
    (refused,) = run(ref, zone, catalog, storage, warehouse).results
    assert (refused.ledger.status, refused.ledger.error_reason) == ("rejected", "UNSAFE_FILE_NAME")
    shutil.copy(source_file, zone.incoming / "行政处罚.csv")

    (renamed,) = run(ref, zone, catalog, storage, warehouse).results

    assert renamed.ledger.status == "loaded" and renamed.ledger.rows_loaded == record["rows"]
    shutil.copy(source_file, zone.incoming / "again.csv")
    (again,) = run(ref, zone, catalog, storage, warehouse).results
    assert again.ledger.status == "duplicate"
    assert again.ledger.notes == f"与台账 {renamed.ledger.ledger_id} 相同"


def test_a_claim_of_a_refused_name_left_by_a_stopped_worker_is_rejected_not_loaded(
    demo, ref, zone, catalog, storage, warehouse
):
    source_file, _ = delivery_of(demo, SOURCE)
    long_name = "长" * 83 + ".csv"  # 253 bytes: a name, but too long to archive under its sha256
    shutil.copy(source_file, zone.incoming / long_name)
    report = FetchReport()
    pickups = landing_module.pickups(ref, zone.root.parent.parent, storage, QUICK, report)
    crashed = next(pickups)
    assert crashed.drop.refused == "NAME_TOO_LONG" and crashed.drop.file_name == long_name
    crashed.abandon()
    pickups.close()
    (claim,) = os.listdir(zone.processing)
    # The claim keeps what fits of the name beside its token and code (255 - 28 bytes: 75 characters).
    assert landing_module.refused_claim(claim) == ("NAME_TOO_LONG", "长" * 75)

    (recovered,) = run(ref, zone, catalog, storage, warehouse).results

    assert (recovered.ledger.status, recovered.ledger.error_reason) == ("rejected", "NAME_TOO_LONG")
    assert recovered.ledger.rows_loaded == 0 and warehouse.table_snapshot("admin_penalty").num_rows == 0
    assert recovered.ledger.file_name == "长" * 75 and "长" * 75 in recovered.ledger.error_message
    assert os.listdir(zone.processing) == [] and len(files_under(zone.rejected)) == 1


# -- concurrency and recovery ----------------------------------------------------------------------


def test_of_workers_claiming_the_same_file_at_once_exactly_one_gets_it(demo, ref, zone, storage):
    source_file, _ = delivery_of(demo, SOURCE)
    path = zone.incoming / "race.csv"
    shutil.copy(source_file, path)
    seen = FileStat(path.stat().st_size, path.stat().st_mtime_ns)
    barrier = threading.Barrier(8)
    claims = []

    def worker() -> None:
        barrier.wait()
        claims.append(landing_module._claim(ref, zone, storage, "race.csv", seen))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    won = [c for c in claims if c is not None]
    assert len(claims) == 8 and len(won) == 1
    (claimed,) = os.listdir(zone.processing)
    assert claimed_name(claimed) == "race.csv"
    # While the winner holds its claim, another poll leaves it alone.
    report = FetchReport()
    assert list(landing_module.pickups(ref, zone.root.parent.parent, storage, QUICK, report)) == []
    won[0].abandon()


def test_a_claim_left_by_a_stopped_worker_is_recovered_and_loaded_once(
    demo, ref, zone, catalog, storage, warehouse
):
    source_file, record = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "c.csv")
    report = FetchReport()
    pickups = landing_module.pickups(ref, zone.root.parent.parent, storage, QUICK, report)
    crashed = next(pickups)
    crashed.abandon()  # the worker died after claiming: its lock is gone, its file in processing/
    pickups.close()
    assert [claimed_name(n) for n in os.listdir(zone.processing)] == ["c.csv"]

    (recovered,) = run(ref, zone, catalog, storage, warehouse).results

    assert recovered.ledger.status == "loaded" and recovered.ledger.rows_loaded == record["rows"]
    assert os.listdir(zone.processing) == []
    assert [r.status for r in warehouse.ledger()] == ["loaded"]


def test_a_failed_load_leaves_the_file_to_be_taken_again(
    demo, ref, zone, catalog, storage, warehouse, monkeypatch
):
    source_file, record = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "d.csv")

    def broken_loading(ledger, dataset):
        raise ConnectionError("warehouse went away")

    monkeypatch.setattr(warehouse, "loading", broken_loading)
    with pytest.raises(ConnectionError):
        run(ref, zone, catalog, storage, warehouse)
    assert [claimed_name(n) for n in os.listdir(zone.processing)] == ["d.csv"]
    assert [r.status for r in warehouse.ledger()] == ["failed"]
    monkeypatch.undo()

    (retried,) = run(ref, zone, catalog, storage, warehouse).results

    assert retried.ledger.status == "loaded" and retried.ledger.rows_loaded == record["rows"]
    assert [r.status for r in warehouse.ledger()] == ["loaded"]  # the failed attempt, redone in place
    assert warehouse.table_snapshot("admin_penalty").num_rows == record["rows"]


def test_process_drop_is_what_loads_a_pickup(demo, ref, zone, catalog, storage, warehouse):
    """A pickup's drop is an ordinary archived delivery: processing it directly gives the same row."""
    source_file, record = delivery_of(demo, SOURCE)
    shutil.copy(source_file, zone.incoming / "e.csv")
    report = FetchReport()
    pickups = landing_module.pickups(ref, zone.root.parent.parent, storage, QUICK, report)
    pickup = next(pickups)
    result = process_drop(pickup.drop, catalog=catalog, warehouse=warehouse, storage=storage)
    pickup.finish(result)
    assert list(pickups) == []
    assert result.ledger.rows_loaded == record["rows"]
    assert result.ledger.source == SOURCE and result.ledger.department == "wjw"


def test_reprocessing_a_name_rejection_rejects_it_again_unread(demo, ref, zone, catalog, storage, warehouse):
    """A catalog fix does not fix a file name: ``credit-etl reprocess`` keeps the delivery rejected."""
    from etl.cli.reprocess_cmd import drop_of

    shutil.copy(delivery_of(demo, SOURCE)[0], zone.incoming / "bad\x1bname.csv")
    (first,) = run(ref, zone, catalog, storage, warehouse).results

    again = process_drop(drop_of(first.ledger), catalog=catalog, warehouse=warehouse, storage=storage,
                         reprocess_of=first.ledger.ledger_id)  # fmt: skip

    assert (again.ledger.status, again.ledger.error_reason) == ("rejected", "UNSAFE_FILE_NAME")
    assert again.ledger.reprocess_of == first.ledger.ledger_id and again.ledger.rows_read == 0
    assert warehouse.table_snapshot("admin_penalty").num_rows == 0


def test_reprocessing_a_refused_link_rejects_it_again_without_reading_its_text_as_data(
    ref, zone, catalog, storage, warehouse, tmp_path
):
    """The kept text of a link is not a delivery's content: ``credit-etl reprocess`` rejects it again,
    even when the text would parse as a CSV."""
    from etl.cli.reprocess_cmd import drop_of

    os.symlink("处罚决定书文号,行政相对人名称\nA,B", zone.incoming / "link.csv")  # a target that reads as CSV
    (first,) = run(ref, zone, catalog, storage, warehouse).results
    assert first.ledger.error_reason == "LINK_REFUSED" and "\\x0a" in first.ledger.error_message

    again = process_drop(drop_of(first.ledger), catalog=catalog, warehouse=warehouse, storage=storage,
                         reprocess_of=first.ledger.ledger_id)  # fmt: skip

    assert (again.ledger.status, again.ledger.error_reason) == ("rejected", "LINK_REFUSED")
    assert again.ledger.rows_read == 0 and warehouse.table_snapshot("admin_penalty").num_rows == 0


def test_a_file_with_the_bytes_of_a_refused_links_text_is_judged_on_its_own(
    ref, zone, catalog, storage, warehouse
):
    """A refused link's kept text was never judged as a delivery, so a real file that happens to hold
    the same bytes is read and judged, not taken for a duplicate of it."""
    text = "处罚决定书文号,行政相对人名称\nA,B"
    os.symlink(text, zone.incoming / "link.csv")
    (link,) = run(ref, zone, catalog, storage, warehouse).results
    (zone.incoming / "real.csv").write_text(text, encoding="utf-8")

    (real,) = run(ref, zone, catalog, storage, warehouse).results

    assert link.ledger.sha256 == real.ledger.sha256 and link.ledger.error_reason == "LINK_REFUSED"
    assert (real.ledger.status, real.ledger.error_reason) == ("rejected", "HEADER_NOT_FOUND")
