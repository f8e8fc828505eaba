"""A loopback TCP proxy that can cut a connection after so many bytes, to test real mid-transfer
failures of SFTP downloads and database pulls (the client sees the server's bytes stop and the socket
close, exactly as when a link drops)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Iterator


class CuttingProxy:
    """Forwards 127.0.0.1:<port> to ``target``; the connections numbered in ``cut`` (0-based, in
    order of arrival) are closed once ``cut_after`` bytes have gone from the server to the client."""

    def __init__(self, target: tuple[str, int], *, cut_after: int, cut: set[int]) -> None:
        self.target = target
        self.cut_after = cut_after
        self.cut = cut
        self.connections = 0
        self.cuts = 0
        self.bytes_down: dict[int, int] = {}  # server to client, by connection number
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accepting = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            number = self.connections
            self.connections += 1
            thread = threading.Thread(target=self._pump, args=(client, number), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _pump(self, client: socket.socket, number: int) -> None:
        budget = self.cut_after if number in self.cut else None
        try:
            server = socket.create_connection(self.target, timeout=5)
        except OSError:
            client.close()
            return
        with client, server:
            while not self._stop.is_set():
                ready, _, _ = select.select([client, server], [], [], 0.2)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is server:
                        self.bytes_down[number] = self.bytes_down.get(number, 0) + len(data)
                        if budget is not None and len(data) >= budget:
                            client.sendall(data[:budget])
                            self.cuts += 1
                            return  # both sockets closed: the link is gone mid-transfer
                        if budget is not None:
                            budget -= len(data)
                        client.sendall(data)
                    else:
                        server.sendall(data)

    @contextlib.contextmanager
    def running(self) -> Iterator[CuttingProxy]:
        self._accepting.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._listener.close()
            self._accepting.join(timeout=5)
            for thread in self._threads:
                thread.join(timeout=5)
