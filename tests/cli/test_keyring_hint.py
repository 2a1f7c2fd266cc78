"""Doctor's keyring hint works on the README's install: it names the `keyrings-alt` extra's
exact install command (the one the README gives), and the extra exists and brings keyrings.alt."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import keyring
import keyring.backends.fail

from tests.support import run

ROOT = Path(__file__).resolve().parents[2]
INSTALL = "uv tool install --force '.[keyrings-alt]'"
BACKEND = "PYTHON_KEYRING_BACKEND=keyrings.alt.file.PlaintextKeyring"


def test_doctor_names_the_extra_to_install_when_no_keyring_works() -> None:
    keyring.set_keyring(keyring.backends.fail.Keyring())  # a host without D-Bus
    result = run("doctor", "--json")
    assert result.exit_code == 1, result.stdout
    checks = {c["name"]: c for c in json.loads(result.stdout)["data"]["checks"]}
    secrets = checks["secrets"]
    assert secrets["status"] == "fail", secrets
    assert INSTALL in secrets["fix"], secrets["fix"]
    assert BACKEND in secrets["fix"], secrets["fix"]
    assert "qbsync config set secrets file" in secrets["fix"]


def test_the_hint_is_the_readmes_install_and_the_extra_brings_keyrings_alt() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "uv tool install ." in readme  # the README's install, which the extra extends
    assert INSTALL in readme and BACKEND in readme
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extra = project["optional-dependencies"]["keyrings-alt"]
    assert [d.split(">")[0].split("=")[0] for d in extra] == ["keyrings-alt"], extra
    lock = (ROOT / "uv.lock").read_text(encoding="utf-8")
    assert re.search(r'provides-extras = \[[^]]*"keyrings-alt"', lock), "the lock lacks the extra"
