from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from qbsync import config, paths
from qbsync.errors import ConfigError, NotFoundError
from tests.support import run, run_json
from tests.sync.helpers import cli_env, qbsync_cmd


def test_show_json_parses_and_has_defaults() -> None:
    data = run_json("config", "show")["data"]
    assert data["sync"]["interval"] == "15m"
    assert data["sync"]["attempt_cap"] == 5
    assert data["qbo"]["requests_per_minute"] == 500
    assert data["secrets"] == "keyring"


def test_set_writes_only_what_was_chosen() -> None:
    out = run_json("config", "set", "sync.interval", "10m")["data"]
    assert out == {"key": "sync.interval", "value": "10m", "path": str(paths.config_file())}
    text = paths.config_file().read_text()
    assert "interval: 10m" in text and "attempt_cap" not in text
    assert config.load().sync.interval == 600


def test_set_company_setting_creates_the_company_section() -> None:
    run_json("config", "set", "companies.acme.go_live", "2026-01-01")
    cfg = config.load()
    assert str(cfg.companies["acme"].go_live) == "2026-01-01"


def test_set_a_company_subsection_the_file_does_not_have_yet() -> None:
    run_json("config", "set", "companies.acme.go_live", "2026-01-01")
    run_json("config", "set", "companies.acme.tax.source", "quickbooks")
    assert config.load().companies["acme"].tax.source == "quickbooks"


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("sync.intervl", "5m", "sync.intervl"),
        ("nonsense", "1", "nonsense"),
        ("sync.interval", "5x", "sync.interval"),
        ("sync.attempt_cap", "0", "sync.attempt_cap"),
        ("secrets", "vault", "secrets"),
        ("companies.acme.environment", "staging", "companies.acme.environment"),
        ("companies.Bad Key.go_live", "2026-01-01", "companies.Bad Key"),
        ("qbo.nope.deeper", "1", "qbo.nope"),
        ("companies.acme.taxes.source", "ledger", "companies.acme.taxes"),
    ],
)
def test_set_rejects_unknown_keys_and_bad_values_naming_them(
    key: str, value: str, named: str
) -> None:
    before = paths.config_file().read_text() if paths.config_file().exists() else None
    result = run("config", "set", key, value, "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "config"
    assert named in error["message"]
    after = paths.config_file().read_text() if paths.config_file().exists() else None
    assert after == before


def test_human_error_is_one_line_on_stderr_with_hint() -> None:
    result = run("config", "set", "sync.intervl", "5m")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[0] == "error: config set: sync.intervl: unknown key"
    assert result.stderr.splitlines()[1].startswith("hint:")


def test_broken_file_names_the_line_and_key() -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text("version: 1\nsync:\n  interval: 15m\n  overlap: soon\n")
    with pytest.raises(ConfigError) as err:
        config.load()
    assert "config.yaml:4: sync.overlap" in err.value.message


def test_unparseable_yaml_names_the_line() -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text("sync:\n  interval: [15m\n")
    result = run("config", "show", "--json")
    assert result.exit_code == 2
    assert "config.yaml:" in json.loads(result.stdout)["error"]["message"]


@pytest.mark.slow
@pytest.mark.parametrize("text", ["", "  \n\n\t\n"], ids=["empty", "blank"])
def test_an_empty_config_file_is_named_not_taken_for_no_setup(text: str) -> None:
    """A config.yaml cut short is exit 2 naming it, never "no company is set up yet" (which
    would invite setting up again over the lost settings); no file at all still is that."""
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text(text)
    for args in (
        ["status"],
        ["sync", "run"],
        ["config", "show"],
        ["config", "set", "log_level", "debug"],
    ):
        error = run_json(*args, code=2)["error"]
        assert error == {
            "code": "config",
            "message": f"{paths.config_file()} is empty",
            "hint": "restore it from a backup, or remove it to start over",
        }, args
    assert paths.config_file().read_text() == text  # `config set` wrote nothing over it
    quiet = subprocess.run(
        qbsync_cmd("sync", "run", "--quiet"),
        env=cli_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (quiet.returncode, quiet.stdout) == (2, ""), quiet.stderr
    assert quiet.stderr == (
        f"error: {paths.config_file()} is empty "
        "(hint: restore it from a backup, or remove it to start over)\n"
    )
    paths.config_file().unlink()
    missing = run_json("status", code=2)["error"]
    assert missing["message"] == "no QuickBooks company is set up yet"


def test_a_config_file_of_comments_alone_is_the_defaults() -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text("# settings go here\n")
    assert run_json("config", "show")["data"]["log_level"] == "info"


def test_company_resolution() -> None:
    cfg = config.Config.model_validate(
        {"companies": {"acme": {}, "beta": {"environment": "sandbox"}}}
    )
    with pytest.raises(NotFoundError):
        cfg.company(None)
    assert cfg.company("beta")[0] == "beta"
    with pytest.raises(NotFoundError, match="unknown company 'zeta'"):
        cfg.company("zeta")
    cfg.default_company = "acme"
    assert cfg.company(None)[0] == "acme"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("2d", 172800), (45, 45), ("250ms", 0.25)],
)
def test_durations(text: object, seconds: float) -> None:
    assert config.parse_duration(text) == seconds


def test_example_config_documents_every_key_and_validates() -> None:
    import yaml

    example = paths.Path(__file__).resolve().parents[1] / "qbsync" / "config.example.yaml"
    text = example.read_text()
    data = yaml.safe_load(text)
    config.validate(data, None, "config.example.yaml")

    def keys(model: type, prefix: str = "") -> list[str]:
        out = []
        for name, field in model.record_fields().items():
            out.append(name)
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, config.Record):
                out += keys(annotation)
        return out

    every = keys(config.Config) + keys(config.CompanySettings)
    missing = [k for k in every if f"{k}:" not in text]
    assert missing == []


COMMENTED = """\
# my notes: keep them
version: 1
secrets: keyring   # the desktop keyring
sync:
  interval: 900s   # every quarter hour
  overlap: 5m
companies:
  acme:            # the main company
    environment: sandbox
    go_live: 2026-01-01
"""


def test_set_keeps_comments_order_and_untouched_values() -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text(COMMENTED)
    run_json("config", "set", "sync.overlap", "10m")
    run_json("config", "set", "companies.acme.auto_sync", "false")
    run_json("companies", "use", "acme")
    assert (
        paths.config_file().read_text()
        == COMMENTED.replace("overlap: 5m", "overlap: 10m").replace(
            "    go_live: 2026-01-01\n", "    go_live: 2026-01-01\n    auto_sync: false\n"
        )
        + "default_company: acme\n"
    )


def test_clearing_a_value_removes_only_its_line() -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text(COMMENTED)
    run_json("config", "set", "companies.acme.go_live", "")
    assert paths.config_file().read_text() == COMMENTED.replace("    go_live: 2026-01-01\n", "")


def test_app_set_writes_only_what_was_given() -> None:
    run_json("app", "set", "-c", "acme", "--client-id", "ID1", "--env", "sandbox", input="s\n")
    text = paths.config_file().read_text()
    assert text == "default_company: acme\ncompanies:\n  acme:\n    environment: sandbox\n"
    run_json("app", "set", "-c", "acme", "--client-id", "ID2", input="s\n")
    assert paths.config_file().read_text() == text


def test_a_bad_company_key_is_exit_2_with_the_rule() -> None:
    result = run("app", "set", "-c", "Bad Key", "--client-id", "x", "--json", input="s\n")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]  # a usage error under --json is JSON too
    assert error["code"] == "usage"
    assert "'Bad Key': a company key is 1 to 40 lowercase letters" in error["message"]
    assert not paths.config_file().exists()


def test_bare_numbers_for_durations_are_refused_naming_the_key_and_rule() -> None:
    result = run("config", "set", "sync.interval", "10", "--json")
    assert result.exit_code == 2
    message = json.loads(result.stdout)["error"]["message"]
    assert "sync.interval: 10 has no unit" in message and "write 10s" in message
    assert not paths.config_file().exists()

    # A file written for an older release: refused on every run, naming the line and the fix.
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text("sync:\n  interval: 10\n")
    for _ in range(2):
        shown = run("config", "show")
        assert shown.exit_code == 2 and shown.stdout == ""
        assert "config.yaml:2: sync.interval: 10 has no unit" in shown.stderr
    # The fix, as the message names it, works on the file that does not validate.
    run_json("config", "set", "sync.interval", "10s")
    assert paths.config_file().read_text() == "sync:\n  interval: 10s\n"
    assert run("config", "show").exit_code == 0
    with pytest.raises(ValueError, match="has no unit"):
        config.parse_duration("10")
    daemon = run("daemon", "--once", "--interval", "10", "--json")
    assert daemon.exit_code == 2, daemon.stdout


def test_config_get_prints_effective_values() -> None:
    assert run("config", "get", "sync.interval").stdout == "15m\n"
    assert run("config", "get", "default_company").stdout == "null\n"
    run_json("config", "set", "sync.interval", "90s")
    assert run_json("config", "get", "sync.interval")["data"] == {
        "key": "sync.interval",
        "value": "90s",
    }
    assert run_json("config", "get", "sync")["data"]["value"]["attempt_cap"] == 5
    error = run_json("config", "get", "sync.intervl", code=2)["error"]
    assert error["message"] == "sync.intervl: unknown key"
    assert "qbsync config example" in error["hint"]


def test_config_example_prints_the_packaged_example() -> None:
    example = paths.Path(config.__file__).parent / "config.example.yaml"
    result = run("config", "example")
    assert result.exit_code == 0 and result.stdout == example.read_text()
    assert "# Durations need a unit" in result.stdout


def test_an_impossible_date_names_the_file_and_line() -> None:
    paths.ensure_dir(paths.config_dir())
    paths.config_file().write_text("companies:\n  acme:\n    go_live: 2026-13-01\n")
    with pytest.raises(ConfigError) as err:
        config.load()
    assert "config.yaml:3:" in err.value.message
    assert "'2026-13-01' is not a date" in err.value.message


def test_set_refuses_an_impossible_date_naming_the_key() -> None:
    result = run("config", "set", "companies.acme.go_live", "2026-13-01", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["message"] == "config set: companies.acme.go_live: expected a date (YYYY-MM-DD)"
    assert not paths.config_file().exists()


def test_without_qbsync_home_the_platforms_directories_are_used(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A guard for the lazily loaded platformdirs: the same directories as before.
    import platformdirs

    monkeypatch.delenv(paths.HOME_ENV, raising=False)
    monkeypatch.delenv(paths.CONFIG_ENV, raising=False)
    assert paths.config_dir() == Path(platformdirs.user_config_dir("qbsync", appauthor=False))
    assert paths.database_file().parent == Path(
        platformdirs.user_state_dir("qbsync", appauthor=False)
    )
    assert paths.log_dir() == Path(platformdirs.user_log_dir("qbsync", appauthor=False))
    assert paths.config_file() == paths.config_dir() / "config.yaml"
