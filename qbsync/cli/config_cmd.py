"""`qbsync config show|get|set|path|example`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from qbsync import config as config_mod
from qbsync import paths
from qbsync.cli.command import command, group
from qbsync.workspace import Workspace

if TYPE_CHECKING:  # rich is loaded only to draw for a person: --json and --quiet never do
    from qbsync.cli.render import Console

app = group("Show and change settings in config.yaml.")


def _render_yaml(out: Console, data: Any) -> None:
    import yaml

    out.print(yaml.safe_dump(data, sort_keys=False).rstrip(), markup=False)


@command(app, "show", render=_render_yaml)
def show() -> dict[str, Any]:
    """Show the effective configuration (defaults filled in)."""
    with Workspace() as ws:
        return config_mod.to_yaml_data(ws.config)


@command(app, "set")
def set_(
    key: Annotated[
        str, typer.Argument(help="Dotted key, e.g. sync.interval or companies.acme.go_live.")
    ],
    value: Annotated[str, typer.Argument(help="New value, as YAML (true, 30, 10m, 2026-01-01).")],
) -> dict[str, Any]:
    """Change one setting. The whole file is validated before anything is written."""
    with Workspace():
        updated = config_mod.set_in_file(key, value)
        path = paths.config_file()
        data: Any = config_mod.to_yaml_data(updated)
        for part in key.split("."):
            data = data.get(part) if isinstance(data, dict) else None
        result: dict[str, Any] = {"key": key, "value": data, "path": str(path)}
        if key == "secrets" and data == "file":
            from qbsync.secrets import file_store_warning

            result["warning"] = file_store_warning()  # said here once, not on every run
        return result


@command(app, "path")
def path() -> str:
    """Print where config.yaml lives."""
    return str(paths.config_file())


def _render_value(out: Console, data: Any) -> None:
    import yaml

    value = data["value"]
    if isinstance(value, dict):
        _render_yaml(out, value)
    else:  # a scalar as config.yaml spells it: 15m, true, null, 2026-01-01
        text = value if isinstance(value, str) else yaml.safe_dump(value).removesuffix("\n...\n")
        out.print(text.rstrip("\n"), markup=False)


@command(app, "get", render=_render_value)
def get(
    key: Annotated[str, typer.Argument(help="Dotted key, e.g. sync.interval or default_company.")],
) -> dict[str, Any]:
    """Print one setting's effective value (its default when config.yaml does not set it)."""
    with Workspace() as ws:
        return {"key": key, "value": config_mod.get_value(ws.config, key)}


def _render_text(out: Console, data: str) -> None:
    import sys

    sys.stdout.write(data)


@command(app, "example", render=_render_text)
def example() -> str:
    """Print the annotated example config.yaml: every key, its default and what it does."""
    return config_mod.example_text()
