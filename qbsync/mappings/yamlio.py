"""The mappings YAML: reading (every problem named by line), resolving, and writing it back.

    version: 1
    company: acme
    items:     {S-MSP: {qbo: "12"}, S-HW: {qbo_name: "Hardware"}}
    tax_codes: {TR-NY: {qbo: TAX}}

An entry is `{qbo: ID}`, `{qbo_name: NAME}` (resolved against the company's QuickBooks list),
or both (the id is used; the name is kept as its label). Export writes both, so that export
then import changes nothing and needs no connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from qbsync.errors import InputError
from qbsync.ledger.readers import load_yaml_text
from qbsync.ledger.validate import Problems
from qbsync.mappings.kinds import KIND_ORDER, check_local_id, check_qbo_id
from qbsync.mappings.resolve import ResolveError, Resolver
from qbsync.mappings.store import Mapping
from qbsync.yamlfile import LocatedYaml, dotted, read_text

ENTRY_KEYS = ("qbo", "qbo_name")
NO_MAPPINGS_HINT = "was the file cut short? `qbsync mappings export` shows the format"


@dataclass(frozen=True)
class Entry:
    kind: str
    local_id: str
    qbo_id: str | None
    qbo_name: str | None
    where: str  # "file:LINE: kind.local"


@dataclass
class MappingsFile:
    company: str | None
    entries: list[Entry]
    kinds: set[str]  # kinds the file has a section for (what --prune applies to)


def _where(source: str, located: LocatedYaml, path: tuple[str | int, ...]) -> str:
    line = located.line_of(path)
    return f"{source}:{line}: {dotted(path)}" if line else f"{source}: {dotted(path)}"


def parse(text: str, source: str) -> MappingsFile:
    """Read and check the shape of a mappings file (no QuickBooks lookups)."""
    located = load_yaml_text(text, source)
    data = located.data
    problems = Problems()
    if data is None:  # nothing, or nothing but comments: a file cut short, not "no changes"
        raise InputError(f"{source}: empty file: holds no mappings", NO_MAPPINGS_HINT)
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping with version, company and mapping kinds")
    version = data.get("version", "1")
    if str(version) != "1":
        problems.add(_where(source, located, ("version",)), f"unsupported version {version!r}")
    company = data.get("company")
    if company is not None and not isinstance(company, str):
        problems.add(_where(source, located, ("company",)), "expected a company key")
        company = None
    entries: list[Entry] = []
    kinds: set[str] = set()
    for key, section in data.items():
        if key in ("version", "company"):
            continue
        where = _where(source, located, (key,))
        if key not in KIND_ORDER:
            problems.add(where, f"unknown mapping kind (kinds: {', '.join(KIND_ORDER)})")
            continue
        kinds.add(key)
        if section is None:
            continue
        if not isinstance(section, dict):
            problems.add(where, "expected a mapping of local id to {qbo: ID} or {qbo_name: NAME}")
            continue
        for local, spec in section.items():
            path = (key, local)
            where = _where(source, located, path)
            try:
                local_id = check_local_id(key, local)
            except ValueError as exc:
                problems.add(where, str(exc))
                continue
            entry = _entry(key, local_id, spec, where, source, located, path, problems)
            if entry is not None:
                entries.append(entry)
    problems.raise_if_any()
    if not kinds:
        raise InputError(
            f"{source}: holds no mappings (no section of {', '.join(KIND_ORDER)})",
            NO_MAPPINGS_HINT,
        )
    return MappingsFile(company, entries, kinds)


def _entry(
    kind: str,
    local_id: str,
    spec: Any,
    where: str,
    source: str,
    located: LocatedYaml,
    path: tuple[str, ...],
    problems: Problems,
) -> Entry | None:
    if not isinstance(spec, dict):
        problems.add(where, "expected {qbo: ID} or {qbo_name: NAME}")
        return None
    unknown = [k for k in spec if k not in ENTRY_KEYS]
    if unknown:
        problems.add(
            _where(source, located, (*path, str(unknown[0]))),
            "unknown field (use qbo or qbo_name)",
        )
        return None
    qbo, name = spec.get("qbo"), spec.get("qbo_name")
    if qbo is None and name is None:
        problems.add(where, "give qbo (an id) or qbo_name (a name to look up)")
        return None
    qbo_id = None
    if qbo is not None:
        try:
            qbo_id = check_qbo_id(kind, qbo)
        except ValueError as exc:
            problems.add(_where(source, located, (*path, "qbo")), str(exc))
            return None
    if name is not None:
        if not isinstance(name, str) or not name.strip() or len(name) > 500:
            problems.add(_where(source, located, (*path, "qbo_name")), "expected a name")
            return None
        name = name.strip()
    return Entry(kind, local_id, qbo_id, name, where)


def resolve(entries: list[Entry], resolver: Resolver) -> list[Mapping]:
    """Entries to mappings: ids as they are, names looked up. All problems are reported
    together, each with its line and the candidates."""
    problems = Problems()
    out: list[Mapping] = []
    for entry in entries:
        if entry.qbo_id is not None:
            out.append(Mapping(entry.kind, entry.local_id, entry.qbo_id, entry.qbo_name))
            continue
        assert entry.qbo_name is not None
        try:
            found = resolver.resolve(entry.kind, entry.local_id, entry.qbo_name)
        except ResolveError as exc:
            problems.add(f"{entry.where}.qbo_name", str(exc))
            continue
        out.append(Mapping(entry.kind, entry.local_id, found.qbo_id, found.qbo_name))
    problems.raise_if_any("fix the names (or map by id with qbo: ID); nothing was written")
    return out


def read(path: Path) -> MappingsFile:
    return parse(read_text(path), str(path))


def dump(company: str, mappings: list[Mapping], *, ascii_only: bool = False) -> str:
    """The mappings as YAML in the import shape (kinds in their usual order); `ascii_only`:
    YAML's own escapes for every other character (read back as the same text), for an output
    that cannot hold UTF-8."""
    data: dict[str, Any] = {"version": 1, "company": company}
    for kind in KIND_ORDER:
        section = {
            m.local_id: {"qbo": m.qbo_id, **({"qbo_name": m.qbo_name} if m.qbo_name else {})}
            for m in sorted(mappings, key=lambda m: m.local_id)
            if m.kind == kind
        }
        if section:
            data[kind] = section
    return yaml.safe_dump(
        data, sort_keys=False, allow_unicode=not ascii_only, default_flow_style=None, width=100
    )
