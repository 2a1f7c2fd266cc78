"""`qbsync daemon` as systemd and cron see it, in a real process: exit 78 with one line when
there is nothing to sync, nothing on stdout, logs to stderr under systemd and to the log file
otherwise, a cycle's line on stderr only at a terminal, the company list read again on SIGHUP,
a broken config.yaml said once, SIGTERM during a retry's wait stopping at once, `--once` exiting
as `sync run` does; and the log file shared safely."""

from __future__ import annotations

import json
import os
import pty
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qbsync import paths
from qbsync.logs import SharedFileHandler
from tests.fixtures.qbo import ConnectedCompany, connect_realm
from tests.notify.helpers import write_notify
from tests.support import run_json
from tests.sync.helpers import cli_env, qbsync_cmd, store_query

pytestmark = [pytest.mark.slow]


SYSTEMD = {"INVOCATION_ID": "0123456789abcdef"}  # logs on stderr, where a test reads them
NOT_SYSTEMD = {k: "" for k in ("INVOCATION_ID", "JOURNAL_STREAM")}


def _daemon(
    *args: str, env: dict[str, str] | None = None, stderr: int = subprocess.PIPE
) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        qbsync_cmd("daemon", *args),
        env={**cli_env(), **(env or {})},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=stderr,
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


def _finished(company: str) -> list[dict]:
    return [c for c in _cycles(company) if c["result"] != "running"]


@pytest.mark.e2e
def test_a_cycle_line_on_stderr_only_at_a_terminal(file_company: ConnectedCompany) -> None:
    # stderr a file (nohup, `2>d.err`, @reboot): the log file has each cycle; stderr nothing.
    proc = _daemon("--interval", "1s", env=NOT_SYSTEMD)
    _wait("two cycles", lambda: len(_finished("acme")) >= 2, proc)
    out, err = _stop(proc)
    assert (proc.returncode, out, err) == (0, b"", b"")
    assert "acme: succeeded" in (paths.log_dir() / "qbsync.log").read_text()

    # stderr a terminal: one line per cycle for the person watching.
    main, child = pty.openpty()
    proc = _daemon("--interval", "1h", env=NOT_SYSTEMD, stderr=child)
    os.close(child)
    seen: list[bytes] = []

    def read() -> None:
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the terminal's other end closed
                return
            if not chunk:
                return
            seen.append(chunk)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        _wait("its line", lambda: b"acme: succeeded" in b"".join(seen), proc, timeout=30)
    finally:
        _stop(proc)
        reader.join(timeout=10)
        os.close(main)
    assert proc.returncode == 0


def _broken_config_lines(text: str) -> list[str]:
    said = ("config.yaml does not read", "config.yaml reads again")
    return [line for line in text.splitlines() if any(s in line for s in said)]


@pytest.mark.e2e
def test_a_broken_config_is_said_once_and_its_mending_once(
    file_company: ConnectedCompany,
) -> None:
    config_file = paths.config_file()
    good = config_file.read_text()
    proc = _daemon("--interval", "1s", env=SYSTEMD)
    try:
        _wait("first cycle", lambda: _finished("acme"), proc)
        config_file.write_text("companies: [\n")
        before = len(_finished("acme"))
        _wait("cycles with it broken", lambda: len(_finished("acme")) >= before + 3, proc)
        proc.send_signal(signal.SIGHUP)  # read again at once: still broken, nothing new said
        time.sleep(0.3)
        config_file.write_text(good)
        mended = len(_finished("acme"))
        _wait("cycles after it reads", lambda: len(_finished("acme")) >= mended + 2, proc)
    finally:
        _, err = _stop(proc)
    assert proc.returncode == 0, err
    lines = _broken_config_lines(err.decode())
    assert len(lines) == 2, "\n".join(lines)
    assert "WARNING" in lines[0] and "config.yaml does not read" in lines[0], lines
    assert "INFO" in lines[1] and "config.yaml reads again" in lines[1], lines
    assert "cycle" in err.decode() and "acme: succeeded" in err.decode()  # kept syncing


@pytest.mark.e2e
def test_sigterm_while_a_request_waits_to_retry_stops_at_once(
    file_company: ConnectedCompany, tmp_path: Path
) -> None:
    alerts = tmp_path / "alerts.jsonl"
    keep = "import sys; open(sys.argv[1], 'a').write(sys.stdin.read() + chr(10))"
    write_notify(
        [{"name": "pager", "type": "command", "command": [sys.executable, "-c", keep, str(alerts)]}]
    )
    # QuickBooks answers 503 to every change read: the client waits 0.5-1 s, then 1-2 s, 2-4 s
    # and 4-8 s between its five tries (the daemon's own process: the tests' fast retries do not
    # apply).
    file_company.control.inject_fault("/v3/company/*/cdc*", method="GET", status=503)
    proc = _daemon("--interval", "5s", env=SYSTEMD)
    _wait("a cycle", lambda: _cycles("acme"), proc)
    time.sleep(1.5)  # past the first try: waiting to retry
    asked = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    took = time.monotonic() - asked
    text = err.decode()
    assert (proc.returncode, out) == (0, b""), text
    assert took < 1.5, f"stopping took {took:.1f} s\n{text}"
    after = text.split("stop requested", 1)[1]
    assert "(attempt" not in after, text  # not tried again once asked to stop
    [cycle] = store_query("SELECT result, error FROM sync_cycles WHERE company = 'acme'")
    assert cycle["result"] == "cancelled", cycle
    assert "daemon stopped" in cycle["error"], cycle
    assert "acme: cancelled" in after and "daemon stopped" in after, text
    assert not alerts.exists(), alerts.read_text()  # a stop is not a failure: nobody paged


@pytest.mark.e2e
def test_once_exits_3_when_the_connection_needs_reconnecting(
    file_company: ConnectedCompany,
) -> None:
    file_company.control.revoke_all_tokens(file_company.realm_id)
    proc = _daemon("--once", env=SYSTEMD)
    out, err = proc.communicate(timeout=120)
    assert (proc.returncode, out) == (3, b""), err
    [cycle] = _cycles("acme")
    assert cycle["result"] == "aborted", cycle
    assert err.decode().endswith("(hint: reconnect: qbsync connect --company acme)\n"), err


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
