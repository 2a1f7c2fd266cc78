"""qbsync.qbo is a pure QuickBooks client: it loads nothing of qbsync beyond itself and the
shared helpers (errors, logs and their paths, redaction, time), so it reads no config, store or
secrets and knows no room above it."""

from __future__ import annotations

import subprocess
import sys

import pytest

SHARED = {
    "qbsync",
    "qbsync.errors",
    "qbsync.logs",
    "qbsync.paths",
    "qbsync.redact",
    "qbsync.timeutil",
}


# Runs a fresh Python process.
pytestmark = pytest.mark.slow


def test_the_qbo_package_loads_only_itself_and_the_shared_helpers() -> None:
    probe = (
        "import importlib, pkgutil, sys, qbsync.qbo\n"
        "for m in pkgutil.iter_modules(qbsync.qbo.__path__):\n"
        "    importlib.import_module('qbsync.qbo.' + m.name)\n"
        "print('\\n'.join(sorted(m for m in sys.modules if m.startswith('qbsync'))))\n"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.split()
    assert "qbsync.qbo.client" in loaded
    outside = [m for m in loaded if m not in SHARED and not m.startswith("qbsync.qbo")]
    assert outside == []
