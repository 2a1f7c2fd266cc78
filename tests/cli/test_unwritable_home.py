"""A home this user cannot create or write (a file where a directory should be, a read-only
copy, a directory owned by someone else): every command says so in one line naming the place,
exit 1, `{"error": {"code": "filesystem", ...}}` under --json, and never a traceback. Run as
cron runs qbsync: a fresh process, stdin from /dev/null, only PATH, HOME and QBSYNC_HOME."""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]


def _cron_env(home: Path, tmp: Path) -> dict[str, str]:
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp), "QBSYNC_HOME": str(home)}


def qbsync(
    env: dict[str, str], *args: str, user: list[str] | None = None
) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", "from qbsync.cli.app import main; main()", *args]
    return subprocess.run(
        [*(user or []), *command],
        env={**env, "PYTHONPATH": str(REPO)},
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _one_line(done: subprocess.CompletedProcess[str], *names: str) -> str:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert done.stdout == "", done.stdout
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr and "internal" not in done.stderr, done.stderr
    assert " (hint: " in done.stderr, done.stderr
    for name in names:
        assert name in done.stderr, done.stderr
    return done.stderr


def _json_error(done: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    error: dict[str, str] = json.loads(done.stdout)["error"]
    assert error["code"] == "filesystem" and error["hint"], error
    return error


def test_a_home_under_a_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a directory\n")
    env = _cron_env(blocker / "home", tmp_path)

    for args in (["sync", "run", "--quiet"], ["status", "--quiet"], ["doctor", "--quiet"]):
        line = _one_line(qbsync(env, *args), str(blocker))
        assert "is a file, not a directory" in line, line
    loud = qbsync(env, "doctor")
    assert loud.returncode == 1 and "Traceback" not in loud.stderr, loud.stderr
    assert loud.stderr.startswith("error: ") and str(blocker) in loud.stderr, loud.stderr

    for args in (["status", "--json"], ["sync", "run", "--json"]):
        error = _json_error(qbsync(env, *args))
        assert str(blocker) in error["message"], error


def test_a_state_directory_that_is_a_file_is_one_line_naming_it(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "config.yaml").write_text("companies:\n  acme:\n    environment: sandbox\n")
    (home / "state").write_text("in the way\n")
    env = _cron_env(home, tmp_path)
    for args in (["sync", "run", "--quiet"], ["status", "--quiet"]):
        _one_line(qbsync(env, *args), str(home / "state"))
    error = _json_error(qbsync(env, "status", "--json"))
    assert str(home / "state") in error["message"], error


def test_the_traceback_is_there_with_qbsync_debug(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    env = {**_cron_env(blocker / "home", tmp_path), "QBSYNC_DEBUG": "1"}
    done = qbsync(env, "status", "--quiet")
    assert done.returncode == 1 and "Traceback" in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1].startswith("error: "), done.stderr


def _unprivileged() -> list[str] | None:
    """How to run a command as an unprivileged user: nothing when this is one already, else
    setpriv to nobody; None when neither is possible."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    try:
        nobody = pwd.getpwnam("nobody")
    except KeyError:
        return None
    if setpriv is None:
        return None
    return [
        setpriv,
        f"--reuid={nobody.pw_uid}",
        f"--regid={nobody.pw_gid}",
        "--clear-groups",
    ]


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A directory another user can enter (pytest's own is private to this one)."""
    made = Path(tempfile.mkdtemp(prefix="qbsync-unwritable-"))
    made.chmod(0o755)
    yield made
    for path in made.rglob("*"):
        if path.is_dir():
            path.chmod(0o700)
    shutil.rmtree(made)


def test_a_read_only_home_is_one_line_for_a_user_without_write_access(shared_tmp: Path) -> None:
    user = _unprivileged()
    if user is None:
        pytest.skip("no unprivileged user to run qbsync as")
    home = shared_tmp / "home"
    (home / "logs").mkdir(parents=True)
    (home / "logs" / "qbsync.log").write_text("")
    if user:
        shutil.chown(home, "nobody")
        shutil.chown(home / "logs", "nobody")
        shutil.chown(home / "logs" / "qbsync.log", "nobody")
    for path in (home / "logs" / "qbsync.log", home / "logs", home):
        path.chmod(0o500 if path.is_dir() else 0o400)
    env = _cron_env(home, shared_tmp)
    probe = qbsync(env, "--version", user=user)
    if probe.returncode != 0:
        pytest.skip(f"the unprivileged user cannot run qbsync here: {probe.stderr[-200:]}")
    _one_line(qbsync(env, "sync", "run", "--quiet", user=user), "is not writable")
    error = _json_error(qbsync(env, "status", "--json", user=user))
    assert "qbsync.log is not writable by this user" in error["message"], error

    # A home in a directory this user may not write: the directory is named.
    (shared_tmp / "shut").mkdir(mode=0o755)
    shut = _cron_env(shared_tmp / "shut" / "home", shared_tmp)
    line = _one_line(qbsync(shut, "status", "--quiet", user=user))
    assert f"{shared_tmp / 'shut'} is not writable by this user" in line, line
