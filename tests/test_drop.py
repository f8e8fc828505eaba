"""Receiving a delivery: its bytes archived once under their sha256, read once, never half-written.

Each test runs on a local root and on an fsspec file system (pyarrow's ``FSSpecHandler`` over fsspec's
in-memory one), the kind of root that is not this machine's disk and where a move copies and deletes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fsspec.implementations.memory import MemoryFileSystem
from pyarrow import fs

from etl.drop import receive_file
from etl.storage import CHUNK, RECEIVING, Storage

# Several chunks and a short last one: the copy and the hash go through more than one read.
DELIVERY = random.Random(7).randbytes(2 * CHUNK + 12345)


@pytest.fixture(params=["local", "fsspec"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    store = Storage(tmp_path / "store")
    if request.param == "fsspec":
        # Storage takes URIs only, and fsspec's memory file system has none pyarrow knows; it is one
        # store per process, so each test gets a root of its own there.
        store.fs = fs.PyFileSystem(fs.FSSpecHandler(MemoryFileSystem()))
        store.base = f"/{uuid.uuid4().hex}"
        store.fs.create_dir(store.base)
    yield store
    if request.param == "fsspec":
        store.fs.delete_dir(store.base)


def everything(store: Storage) -> list[str]:
    """Every file and directory under the root but the empty ``staging`` directory itself."""
    selector = fs.FileSelector(store.base, recursive=True)
    base = store.base.rstrip("/") + "/"
    return sorted(
        info.path.removeprefix(base) for info in store.fs.get_file_info(selector)
        if info.path.removeprefix(base) != "staging"
    )  # fmt: skip


def receive(store: Storage, path: Path, department: str = "scjg"):
    return receive_file(store, path, dataset="admin_penalty", department=department,
                        source="admin_penalty__scjg__landing")  # fmt: skip


def test_the_archived_bytes_are_the_delivered_ones_under_their_sha256(storage: Storage, tmp_path: Path):
    path = tmp_path / "delivery.csv"
    path.write_bytes(DELIVERY)
    drop = receive(storage, path)

    assert drop.sha256 == hashlib.sha256(DELIVERY).hexdigest()
    assert drop.raw_key == Storage.raw_key(drop.sha256) and drop.size_bytes == len(DELIVERY)
    with storage.open_read(drop.raw_key) as archived:
        assert archived.read() == DELIVERY
    # No temporary left: the raw file, its manifest and their directories only.
    manifest = f"{drop.raw_key}.admin_penalty.scjg.json"
    assert everything(storage) == ["raw", f"raw/{drop.sha256[:2]}", drop.raw_key, manifest]


def test_the_same_bytes_received_twice_are_archived_once(storage: Storage, tmp_path: Path):
    (tmp_path / "a.csv").write_bytes(DELIVERY)
    (tmp_path / "b.csv").write_bytes(DELIVERY)
    first = receive(storage, tmp_path / "a.csv")
    local = storage.local_path(first.raw_key)
    before = local.stat().st_ino if local is not None else None
    second = receive(storage, tmp_path / "b.csv", department="sthj")

    assert (second.sha256, second.raw_key) == (first.sha256, first.raw_key)
    assert second.file_name == "b.csv"
    assert storage.list("raw") == [first.raw_key, f"{first.raw_key}.admin_penalty.scjg.json",
                                   f"{first.raw_key}.admin_penalty.sthj.json"]  # fmt: skip
    assert [key for key in everything(storage) if not key.startswith("raw")] == []
    if local is not None:  # the second copy was dropped, not moved over the first
        assert local.stat().st_ino == before
    with storage.open_read(first.raw_key) as archived:
        assert archived.read() == DELIVERY


class FailingSource(io.BytesIO):
    """The delivery's bytes, until reading past ``after`` bytes raises ``error``."""

    def __init__(self, data: bytes, after: int, error: BaseException) -> None:
        super().__init__(data)
        self.after, self.error = after, error

    def read(self, size: int | None = -1) -> bytes:
        if self.tell() >= self.after:
            raise self.error
        return super().read(size)


@pytest.mark.parametrize("error", [OSError("the source went away"), KeyboardInterrupt()], ids=repr)
def test_a_source_failing_midway_leaves_no_raw_file_and_no_temporary(storage: Storage, error):
    source = FailingSource(DELIVERY, after=2 * CHUNK, error=error)
    with pytest.raises(type(error)):
        storage.put_raw(source)
    assert source.tell() == 2 * CHUNK  # it did fail midway, after writing two chunks
    assert everything(storage) == []


KILLED_MIDWAY = """
import io, os, sys
from etl.storage import CHUNK, Storage

class Killed(io.BytesIO):
    def read(self, size=-1):
        if self.tell() >= 2 * CHUNK:
            os._exit(3)  # no exception handler, no finally: as if the worker were killed
        return super().read(size)

Storage(sys.argv[1]).put_raw(Killed(bytes(3 * CHUNK)))
"""


def test_a_worker_killed_midway_leaves_nothing_under_raw_and_its_temporary_is_swept(tmp_path: Path):
    root = tmp_path / "store"
    project = Path(__file__).parents[1]
    done = subprocess.run([sys.executable, "-c", KILLED_MIDWAY, str(root)], cwd=project, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode == 3, done.stderr
    storage = Storage(root)
    assert storage.list("raw") == []
    (leftover,) = storage.list("staging")
    folder = leftover.rsplit("/", 1)[0]
    assert folder.startswith(RECEIVING)

    os.utime(storage.local_path(folder), (time.time() - 7200,) * 2)
    assert storage.sweep("staging", dt.timedelta(hours=1)) == [folder]
    assert storage.list("staging") == []
