"""`qbsync daemon` as systemd and cron see it, in a real process: exit 78 with one line when
there is nothing to sync, nothing on stdout, logs to stderr under systemd and to the log file
otherwise, the company list read again on SIGHUP; and the log file shared safely."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qbsync import paths
from qbsync.logs import SharedFileHandler
from tests.fixtures.qbo import ConnectedCompany, connect_realm
from tests.support import run_json
from tests.sync.helpers import cli_env, qbsync_cmd, store_query

pytestmark = [pytest.mark.slow]


def _daemon(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        qbsync_cmd("daemon", *args),
        env={**cli_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _cycles(company: str) -> list[dict]:
    return store_query(
        "SELECT id, result, trigger FROM sync_cycles WHERE company = ? ORDER BY id", [company]
    )


def _wait(what: str, check, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    end = time.monotonic() + timeout
    while not check():
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"daemon exited {proc.returncode} before {what}: {out!r} {err!r}")
        if time.monotonic() > end:
            raise AssertionError(f"no {what} in {timeout} s")
        time.sleep(0.1)


def _stop(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()


def test_no_runnable_company_exits_78_with_one_line() -> None:
    for args in ((), ("--quiet",)):
        done = subprocess.run(
            qbsync_cmd("daemon", *args), env=cli_env(), capture_output=True, timeout=60
        )
        assert (done.returncode, done.stdout) == (78, b"")
        assert done.stderr.count(b"\n") == 1, done.stderr
        assert done.stderr.startswith(b"error: no company to sync (no company in config.yaml)")

    run_json("config", "set", "companies.acme.environment", "sandbox")
    done = subprocess.run(qbsync_cmd("daemon"), env=cli_env(), capture_output=True, timeout=60)
    assert (done.returncode, done.stdout) == (78, b"")
    assert done.stderr.startswith(b"error: no company to sync (acme: not connected)"), done.stderr
    assert b"(hint: connect one with qbsync connect --company KEY" in done.stderr


@pytest.mark.e2e
def test_under_systemd_it_logs_to_stderr_and_prints_nothing_on_stdout(
    file_company: ConnectedCompany,
) -> None:
    proc = _daemon("--interval", "1h", env={"INVOCATION_ID": "0123456789abcdef"})
    _wait("first cycle", lambda: [c for c in _cycles("acme") if c["result"] != "running"], proc)
    out, err = _stop(proc)
    assert proc.returncode == 0, err
    assert out == b""  # no table on stop, no cycle lines
    text = err.decode()
    assert "INFO qbsync.daemon daemon started" in text
    assert "INFO qbsync.sync cycle 1 acme: succeeded in" in text
    assert "daemon stopped" in text
    logged = paths.log_dir() / "qbsync.log"
    assert "daemon started" not in (logged.read_text() if logged.exists() else "")


@pytest.mark.e2e
def test_otherwise_it_logs_to_the_file_and_quiet_is_silent(
    file_company: ConnectedCompany,
) -> None:
    env = {k: "" for k in ("INVOCATION_ID", "JOURNAL_STREAM")}
    proc = _daemon("--interval", "1h", "--quiet", env=env)
    _wait("first cycle", lambda: [c for c in _cycles("acme") if c["result"] != "running"], proc)
    out, err = _stop(proc)
    assert (proc.returncode, out, err) == (0, b"", b"")
    logged = (paths.log_dir() / "qbsync.log").read_text()
    assert "daemon started" in logged and "daemon stopped" in logged

    proc = _daemon("--once", "--json", env=env)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    (line,) = out.decode().splitlines()
    assert json.loads(line)["data"]["company"] == "acme"


@pytest.mark.e2e
def test_sighup_reads_the_company_list_again(file_company: ConnectedCompany) -> None:
    proc = _daemon("--interval", "1h")
    try:
        _wait("acme's cycle", lambda: _cycles("acme"), proc)
        other = file_company.control.add_company("Other Co")
        connect_realm(file_company.server, "beta", other)
        time.sleep(0.5)
        assert _cycles("beta") == []  # not before it is told (the poll is 30 s)
        proc.send_signal(signal.SIGHUP)
        _wait(
            "beta's cycle",
            lambda: [c for c in _cycles("beta") if c["result"] != "running"],
            proc,
            timeout=30,
        )
        assert {c["trigger"] for c in _cycles("beta")} == {"daemon"}
    finally:
        out, err = _stop(proc)
    assert proc.returncode == 0 and out == b"", err
    assert b"beta: succeeded" in err  # a person at a terminal sees one line per cycle


WRITER = """
import logging, sys
from pathlib import Path
from qbsync.logs import SharedFileHandler
handler = SharedFileHandler(Path(sys.argv[1]), max_bytes=20_000, backups=50)
handler.setFormatter(logging.Formatter("%(message)s"))
log = logging.getLogger("w"); log.addHandler(handler); log.setLevel(logging.INFO)
for n in range(1500):
    log.info("%s line %05d %s", sys.argv[2], n, "x" * 40)
"""


def test_the_log_file_is_shared_safely(tmp_path: Path) -> None:
    target = tmp_path / "shared.log"
    SharedFileHandler(target).close()
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(target), name], env=os.environ.copy())
        for name in ("cron", "daemon")
    ]
    for writer in writers:
        assert writer.wait(timeout=120) == 0
    lines = [
        line
        for path in tmp_path.glob("shared.log*")
        if not path.name.endswith(".lock")
        for line in path.read_text().splitlines()
    ]
    assert len(lines) == 3000  # nothing lost in the rotations, no line cut or merged
    for name in ("cron", "daemon"):
        assert sorted(x for x in lines if x.startswith(name + " ")) == [
            f"{name} line {n:05d} {'x' * 40}" for n in range(1500)
        ]
    rotated = [p for p in tmp_path.glob("shared.log.*") if not p.name.endswith(".lock")]
    assert len(rotated) > 5  # it did rotate, more than once
    assert max(p.stat().st_size for p in rotated) <= 20_000  # each at most max_bytes
