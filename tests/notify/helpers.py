"""Writing a notify: section into the test workspace's config.yaml."""

from __future__ import annotations

from typing import Any

import yaml

from qbsync import config, paths


def write_notify(targets: list[dict[str, Any]], company: str | None = None) -> None:
    """Set the global (or a company's) notify targets in config.yaml, as a person would."""
    path = paths.config_file()
    data = yaml.safe_load(path.read_text()) if path.exists() else {}
    data = data or {}
    section = {"targets": targets}
    if company:
        data.setdefault("companies", {}).setdefault(company, {})["notify"] = section
    else:
        data["notify"] = section
    config.validate(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
