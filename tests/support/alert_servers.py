"""Loopback servers for the alert tests: an SMTP server that keeps what it receives, and an HTTP
server answering as a DingTalk custom robot (``/robot/send?access_token=…``) and as a webhook."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

# The robots of the catalog's departments that have one, and the tax department's webhook.
ROBOT_TOKENS = {"dingtalk_scjg": "token-scjg", "dingtalk_fgw": "token-fgw"}
WEBHOOK_PATH = "/hook/tax"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_connection(port: int) -> str:
    """An Airflow SMTP connection (JSON form) to a plain-text server on loopback."""
    extra = {"from_email": "credit-monitor@fgw.liuzhou.example.cn", "disable_tls": True, "disable_ssl": True,
             "timeout": 5, "retry_limit": 0}  # fmt: skip
    return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": port, "extra": extra})


@dataclass(frozen=True)
class ReceivedMail:
    sender: str
    recipients: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content())


class LocalSmtpServer:
    """aiosmtpd on a free loopback port, started and stopped by the context manager."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[ReceivedMail] = []

    def __enter__(self) -> LocalSmtpServer:
        from aiosmtpd.controller import Controller

        received = self.mails

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
                assert isinstance(parsed, EmailMessage)
                received.append(ReceivedMail(envelope.mail_from, tuple(envelope.rcpt_tos), parsed))
                return "250 OK"

        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, ready_timeout=10)
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


@dataclass
class RobotServer:
    """Answers DingTalk robot posts (``errcode`` 0, or ``failing_tokens`` get 310000) and webhook
    posts; keeps (path, token, JSON body) of each."""

    failing_tokens: set[str] = field(default_factory=set)
    received: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)

    def __enter__(self) -> RobotServer:
        robot = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                token = parse_qs(parts.query).get("access_token", [None])[0]
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])).decode("utf-8"))
                robot.received.append((parts.path, token, body))
                failing = token in robot.failing_tokens
                answer = {"errcode": 310000, "errmsg": "keywords not in content"} if failing else {}
                answer.setdefault("errcode", 0)
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)  # fmt: skip
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def connections(self) -> dict[str, str]:
        """``AIRFLOW_CONN_*`` variables for the robots and the webhook."""
        variables = {
            f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(
                {"conn_type": "dingding", "host": self.base_url, "password": token}
            )
            for conn_id, token in ROBOT_TOKENS.items()
        }
        variables["AIRFLOW_CONN_WEBHOOK_TAX"] = json.dumps(
            {"conn_type": "http", "host": f"{self.base_url}{WEBHOOK_PATH}", "extra": {"timeout": 5}}
        )
        return variables

    def posts(self, token: str | None = None, path: str | None = None) -> list[dict[str, Any]]:
        return [
            body for p, t, body in self.received
            if (token is None or t == token) and (path is None or p == path)
        ]  # fmt: skip
