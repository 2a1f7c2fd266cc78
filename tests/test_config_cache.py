"""config.yaml is parsed once per text: later commands read what it parsed to from a copy in the
state directory (qbsync.configcache), without loading PyYAML. The copy holds only for the very
text it came from, keeps dates as dates, and never stands in for an invalid file."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from qbsync import config, configcache, paths
from qbsync.errors import ConfigError

TEXT = """\
default_company: acme
secrets: file
sync:
  interval: 10m
  attempt_cap: 7
companies:
  acme:
    environment: sandbox
    go_live: 2026-03-01
    fallback_item: "4000"
  beta:
    environment: production
    go_live: 2026-04-15
"""


def _write(text: str) -> None:
    path = paths.config_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _cache() -> dict:
    return json.loads((paths.state_dir() / configcache.CACHE_NAME).read_text())


@pytest.mark.slow  # a second process, which has not loaded PyYAML
def test_a_second_read_takes_the_copy_without_pyyaml_and_gets_the_same_config() -> None:
    _write(TEXT)
    parsed = config.load()
    assert _cache()["stamp"][2] == TEXT
    code = (
        "import sys\n"
        "from qbsync import config\n"
        "c = config.load()\n"
        "print(repr(c.companies['beta'].go_live), c.sync.interval,"
        " sorted(m for m in ('yaml', 'ruamel') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["datetime.date(2026,", "4,", "15)", "600.0", "[]"]
    again = config.load()
    assert config.to_yaml_data(again, keep_none=True) == config.to_yaml_data(parsed, keep_none=True)
    assert again.companies["acme"].go_live == parsed.companies["acme"].go_live


def test_an_edit_is_seen_however_quick_and_whatever_its_size() -> None:
    _write(TEXT)
    assert config.load().sync.attempt_cap == 7
    path = paths.config_file()
    before = os.stat(path)
    with path.open("r+") as f:  # in place: same file, same size, same modification time
        f.write(TEXT.replace("attempt_cap: 7", "attempt_cap: 8"))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(path).st_size == before.st_size
    assert config.load().sync.attempt_cap == 8


def test_an_invalid_file_is_not_kept_and_still_names_its_line() -> None:
    _write(TEXT)
    config.load()
    _write(TEXT.replace("attempt_cap: 7", "attempt_cap: seven"))
    with pytest.raises(ConfigError, match=r"config\.yaml:5: sync\.attempt_cap"):
        config.load()
    assert _cache()["stamp"][2] == TEXT  # still the valid text's copy


def test_a_copy_that_no_longer_passes_the_rules_is_parsed_again_for_its_lines() -> None:
    _write(TEXT)
    config.load()
    kept = _cache()
    kept["data"]["sync"]["attempt_cap"] = "seven"  # as if the rules had changed since
    (paths.state_dir() / configcache.CACHE_NAME).write_text(json.dumps(kept))
    assert config.load().sync.attempt_cap == 7  # the file, parsed again


@pytest.mark.parametrize("copy", ["not json", "[]", '{"stamp": 1}', ""])
def test_a_broken_copy_is_ignored_and_replaced(copy: str) -> None:
    _write(TEXT)
    config.load()
    (paths.state_dir() / configcache.CACHE_NAME).write_text(copy)
    assert config.load().sync.attempt_cap == 7
    assert _cache()["stamp"][2] == TEXT


def test_a_copy_from_another_version_is_not_used(monkeypatch: pytest.MonkeyPatch) -> None:
    _write(TEXT)
    config.load()
    kept = _cache()
    kept["data"]["sync"]["attempt_cap"] = 9
    (paths.state_dir() / configcache.CACHE_NAME).write_text(json.dumps(kept))
    assert config.load().sync.attempt_cap == 9  # the copy (doctored here) is what is read
    monkeypatch.setattr(configcache, "__version__", "99.0")
    assert config.load().sync.attempt_cap == 7
