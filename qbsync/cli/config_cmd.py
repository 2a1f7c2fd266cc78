"""`qbsync config show|set|path`."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from qbsync import config as config_mod
from qbsync import paths
from qbsync.cli.command import command, group
from qbsync.cli.output import Console
from qbsync.workspace import Workspace

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
    with Workspace() as ws:
        updated = config_mod.set_value(ws.config, key, value)
        path = config_mod.save(updated)
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
