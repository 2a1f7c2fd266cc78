"""An import's writes, made by a helper process while the importer plans the next chunk.

Planning (validation, tax, content hashes) and writing (SQLite's inserts and their indexes) each
take about half of a large import, and both are CPU-bound: in one process they take turns, and
a thread would hand Python's lock back and forth on every row. The helper is a second Python
process on the same store. It takes the write lock first, applies each chunk's plan as it
arrives (store.apply_plan, the same code as in-process) and commits only when told to: a
problem found anywhere, an error, or the importer dying leaves nothing written.

The importer's own reads stay on its connection. They see the store as the helper found it when
it took the lock: nothing else can commit while the helper holds it, and what the import itself
writes the planner keeps in memory (ids it has seen, its invoices' type, status and client).

The two processes speak marshal over the helper's stdin and stdout, a message at a time, each
after its length: the helper takes a message off the pipe whole before reading it, so the
importer is not held while it does. A plan goes as plain tuples, dicts and text (Plan.to_wire),
which marshal writes three times faster than pickle (2.4 against 7.6 ms for 2,000 invoices);
both ends are this code on the same interpreter, the one case marshal is made for.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import subprocess
import sys
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from qbsync.errors import QbsyncError
from qbsync.ledger.changes import Plan
from qbsync.redact import redact
from qbsync.store.database import Database

IMPORT_CACHE_KB = 24_576
MODULE = "qbsync.ledger.writer"  # what the helper runs: this module


class WriterFailed(QbsyncError):
    """The helper could not write the import (nothing was written)."""


def store_file(db: Database) -> Path | None:
    """The file holding the store's main database, None for one in memory."""
    for _, name, file in db.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file) if file else None
    return None


class HelperWriter:
    """Plans written by a helper process, in one transaction of its own."""

    def __init__(self, path: Path) -> None:
        # The helper runs this very qbsync, wherever the importer found it.
        here = str(Path(__file__).resolve().parents[2])
        search = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        # stderr is read only once the helper has ended: it writes there only when it dies.
        self.proc = subprocess.Popen(
            [sys.executable, "-m", MODULE, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": search},
        )
        assert self.proc.stdin and self.proc.stdout and self.proc.stderr
        self.to_helper: IO[bytes] = self.proc.stdin
        self.from_helper: IO[bytes] = self.proc.stdout
        self.said: IO[bytes] = self.proc.stderr
        try:
            self._expect("locked")  # from here on, nothing else commits until we are done
        except BaseException:
            self.close()
            raise

    def write(self, plan: Plan) -> None:
        self._send(("plan", plan.to_wire()))

    def finish(self) -> None:
        """The import is whole: the helper commits it."""
        self._send(("commit", None))
        self._expect("committed")

    def _send(self, message: tuple[str, Any]) -> None:
        try:
            _put(self.to_helper, message)
        except BrokenPipeError:
            self._expect("")  # the helper stopped: say why

    def _expect(self, word: str) -> None:
        try:
            kind, detail = _take(self.from_helper)
        except (EOFError, ValueError, TypeError):  # cut short, or not a message
            code = self.proc.wait()
            lines = self.said.read().decode("utf-8", "replace").strip().splitlines()
            why = f": {redact(lines[-1])}" if lines else ""
            raise WriterFailed(
                f"the import's writer stopped (exit code {code}{why}); nothing was written"
            ) from None
        if kind == "error":
            raise WriterFailed(f"the import could not be written: {detail}; nothing was written")
        if kind != word:
            raise WriterFailed(f"the import's writer answered {kind!r}, not {word!r}")

    def close(self) -> None:
        """End the helper: without a commit first, it rolls back."""
        for stream in (self.to_helper, self.from_helper, self.said):
            with contextlib.suppress(OSError):
                stream.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self) -> HelperWriter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _put(stream: IO[bytes], message: tuple[str, Any]) -> None:
    data = marshal.dumps(message)
    stream.write(len(data).to_bytes(8, "big"))
    stream.write(data)
    stream.flush()


def _take(stream: IO[bytes]) -> Any:
    head = stream.read(8)
    size = int.from_bytes(head, "big")
    data = stream.read(size)
    if len(head) < 8 or len(data) < size:
        raise EOFError("the pipe closed inside a message")
    return marshal.loads(data)


class _GaveUp(Exception):
    """The importer closed the pipe without a commit: it found a problem, failed or died."""


def _serve(path: str, inbox: IO[bytes], outbox: IO[bytes]) -> int:
    import gc

    from qbsync.ledger.store import apply_plan
    from qbsync.store.db import configure
    from qbsync.store.tx import transaction

    gc.disable()  # see importer._no_cycle_collector: the same records, the same reason
    # Ctrl-C reaches the whole process group: the importer decides, and closes the pipe.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    def say(kind: str, detail: Any = None) -> None:
        _put(outbox, (kind, detail))

    db = configure(Database(path))
    try:
        db.execute(f"PRAGMA cache_size = -{IMPORT_CACHE_KB}")
        with transaction(db):  # rolled back by any exception, _GaveUp included
            say("locked")
            while True:
                try:
                    kind, wire = _take(inbox)
                except EOFError:
                    raise _GaveUp from None
                if kind != "plan":
                    break
                apply_plan(db, Plan.from_wire(wire))
        say("committed")
        return 0
    except _GaveUp:
        return 0
    except Exception as exc:  # told to the importer, which says it: nothing is written
        with contextlib.suppress(OSError):
            say("error", f"{type(exc).__name__}: {exc}")
        return 1
    finally:
        db.close()


if __name__ == "__main__":
    # Only messages go to stdout: anything printed by mistake goes to stderr instead.
    out = sys.stdout.buffer
    sys.stdout = sys.stderr
    sys.exit(_serve(sys.argv[1], sys.stdin.buffer, out))
