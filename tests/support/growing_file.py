"""A file some other program is still writing, as a department's export job leaves it mid-way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def still_being_written(path: Path, content: bytes, *, first: int, step: int) -> Iterator[None]:
    """Writes ``content[:first]`` to ``path``, then appends ``step`` bytes every 50 ms in a thread
    until the block ends (or the content runs out)."""
    path.write_bytes(content[:first])
    stop = threading.Event()

    def keep_writing() -> None:
        with path.open("ab") as out:
            for offset in range(first, len(content), step):
                if stop.wait(0.05):
                    return
                out.write(content[offset:offset + step])
                out.flush()

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join(timeout=5)
