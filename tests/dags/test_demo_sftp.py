"""The demo's SFTP server (paramiko, no root) against the real SFTP source code: the pinned host key is
accepted and no other, a wrong password is refused, files are listed, downloaded and archived, nothing
outside the account's folder can be reached, and stopping the server leaves no process and no port.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from etl.errors import SourceError
from etl.orchestration.demo_sftp import DemoSftpServer, host_key
from etl.orchestration.process_group import group_alive
from etl.sources.connections import parse_connection
from etl.sources.sftp import Session, download


@pytest.fixture
def folders(tmp_path: Path) -> dict[str, Path]:
    pbc = tmp_path / "sftp" / "pbc" / "credit" / "jbzh"
    pbc.mkdir(parents=True)
    (pbc / "jbzh_20261127.csv").write_bytes("统一社会信用代码,开户银行\n".encode() * 5000)
    (pbc / "jbzh_20261127.csv.ok").write_bytes(b"")
    jt = tmp_path / "sftp" / "jt" / "outgoing"
    jt.mkdir(parents=True)
    (jt / "secret.txt").write_text("jt only", encoding="utf-8")
    (tmp_path / "outside.txt").write_text("not served", encoding="utf-8")
    return {"pbc": tmp_path / "sftp" / "pbc", "jt": tmp_path / "sftp" / "jt"}


@pytest.fixture
def server(tmp_path: Path, folders: dict[str, Path]):
    with DemoSftpServer(tmp_path / "state", folders) as running:
        yield running


def session(server: DemoSftpServer, login: str = "pbc", **changes: object) -> Session:
    conn = {**server.connection(login), **changes}
    return Session(parse_connection("sftp_demo", json.dumps(conn)), timeout=10)


def test_the_pinned_host_key_logs_in_and_the_files_download_and_archive(server, tmp_path, folders):
    client = session(server)
    try:
        sftp = client.sftp
        assert sorted(sftp.listdir("/credit/jbzh")) == ["jbzh_20261127.csv", "jbzh_20261127.csv.ok"]
        remote = "/credit/jbzh/jbzh_20261127.csv"
        size = sftp.stat(remote).st_size
        local = tmp_path / "download.part"
        download(client, remote, size, local, attempts=2, pause=0.1)
        assert local.read_bytes() == (folders["pbc"] / "credit/jbzh/jbzh_20261127.csv").read_bytes()
        sftp.mkdir("/credit/jbzh/done")
        sftp.rename(remote, "/credit/jbzh/done/jbzh_20261127.csv")
        assert (folders["pbc"] / "credit/jbzh/done/jbzh_20261127.csv").is_file()
        assert not (folders["pbc"] / "credit/jbzh/jbzh_20261127.csv").exists()
    finally:
        client.close()


def test_another_host_key_or_a_wrong_password_is_refused(server, tmp_path):
    other = DemoSftpServer(tmp_path / "other-state", {})
    wrong_key = f"{host_key(other.state_dir).get_name()} {host_key(other.state_dir).get_base64()}"
    with pytest.raises(SourceError, match=r"presented host key .* not the pinned"):
        session(server, extra={"host_key": wrong_key}).sftp.listdir("/")
    with pytest.raises(SourceError, match="refused the login"):
        session(server, password="not-the-password").sftp.listdir("/")
    with pytest.raises(SourceError, match="refused the login"):
        session(server, login="nobody").sftp.listdir("/")


def test_an_account_sees_only_its_own_folder(server, folders):
    (folders["pbc"] / "credit" / "escape").symlink_to(folders["pbc"].parent.parent / "outside.txt")
    client = session(server)
    try:
        sftp = client.sftp
        assert sftp.listdir("/../..") == ["credit"] == sftp.listdir("/")
        with pytest.raises(FileNotFoundError):
            sftp.stat("/outgoing/secret.txt")  # the jt account's file
        with pytest.raises(PermissionError):
            sftp.open("/credit/escape").read()
        with pytest.raises(PermissionError):
            sftp.open("/credit/escape", "w")
        with pytest.raises(FileNotFoundError):
            sftp.open("/../../outside.txt")  # "/outside.txt" in the account's folder: not there
    finally:
        client.close()


def test_stopping_ends_the_process_group_and_frees_the_port(tmp_path, folders):
    server = DemoSftpServer(tmp_path / "state", folders)
    server.start()
    group, port = server.process.pid, server.port
    first_key = server.connection("pbc")["extra"]["host_key"]
    server.stop()
    assert not group_alive(group)
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert oct(os.stat(tmp_path / "state" / "host_key").st_mode & 0o777) == "0o600"
    with DemoSftpServer(tmp_path / "state", folders) as again:
        assert again.connection("pbc")["extra"]["host_key"] == first_key, "the pinned key survives a restart"
