"""Reading ledger files (YAML, JSON, CSV) into raw records that remember where they came from.

Nothing here judges the values; validate.py does. Numbers never pass through float: YAML scalars
are kept as their original text (so `id: 007` stays "007" and `0.1` stays exact), JSON numbers
are parsed as int or Decimal.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from qbsync.errors import InputError
from qbsync.ledger.models import KINDS
from qbsync.yamlfile import LocatedYaml, dotted
from qbsync.yamlfile import read_text as read_text  # the ledger's files, as every other file

# What a record keeps of its children once planned: where it came from is all that stays of it
# (for a duplicate's message), and an empty dict apiece is 64 bytes an invoice.
NO_CHILDREN: Mapping[str, list[RawRecord]] = MappingProxyType({})
SUFFIXES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".csv": "csv"}
Loc = tuple[str | int, ...]
# What to do about a file that does not parse (an import's, ledger or mappings).
YAML_HINT = "fix the YAML at that line and import again; nothing was written"
JSON_HINT = "fix the JSON at that line and import again; nothing was written"
NO_RECORDS_HINT = "was the export cut short? export it again and import it; nothing was written"


@dataclass(slots=True)
class RawRecord:
    """One record as read, plus how to name any place inside it in an error message."""

    kind: str
    data: Any
    source: str
    path: Loc = ()  # where the record sits in a YAML/JSON document, e.g. ("invoices", 0)
    located: LocatedYaml | None = None
    row: int | None = None  # CSV: data row number (1 = the first row after the header)
    line: int | None = None  # CSV: the file line the row starts on
    children: Mapping[str, list[RawRecord]] = field(default_factory=dict)  # CSV invoice lines

    def where(self, loc: Sequence[str | int] = ()) -> str:
        """`file:LINE: dotted.path` (YAML/JSON) or `file:LINE (row N): field` (CSV)."""
        loc = tuple(loc)
        if len(loc) >= 2 and isinstance(loc[1], int) and str(loc[0]) in self.children:
            items = self.children[str(loc[0])]
            if 0 <= loc[1] < len(items):
                return items[loc[1]].where(loc[2:])
        if self.row is not None:
            name = dotted(loc)
            head = f"{self.source}:{self.line} (row {self.row})"
            return f"{head}: {name}" if name else head
        full = (*self.path, *loc)
        line = self.located.line_of(full) if self.located else None
        head = f"{self.source}:{line}" if line else self.source
        return f"{head}: {dotted(full)}" if full else head


# YAML: every scalar stays text (null aside) -------------------------------------------------


# libyaml's parser when PyYAML was built with it (5-10x faster on a 5,000-entry file).
_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _TextLoader(_BaseLoader):
    """A safe loader that resolves no implicit bools, ints, floats or timestamps: a value is
    the text that was written, and the models decide what it means."""


_KEEP = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:merge"}
_TextLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag in _KEEP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _text_float(loader: Any, node: yaml.ScalarNode) -> Any:
    # An explicit !!float tag: keep the digits exact.
    try:
        return Decimal(str(loader.construct_scalar(node)).replace("_", ""))
    except ArithmeticError:
        return str(loader.construct_scalar(node))


_TextLoader.add_constructor("tag:yaml.org,2002:float", _text_float)


def _walk(node: yaml.Node, path: Loc, lines: dict[Loc, int], source: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in seen:
                raise InputError(
                    f"{source}:{line}: {dotted((*path, key))}: duplicate key "
                    f"(also on line {seen[key]})"
                )
            seen[key] = line
            lines[(*path, key)] = line
            _walk(value_node, (*path, key), lines, source)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines, source)


def load_yaml_text(text: str, source: str, hint: str = YAML_HINT) -> LocatedYaml:
    """Parse YAML keeping scalars as text; syntax errors and duplicate keys name the line (and
    say `hint`, the next step)."""
    loader = _TextLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Loc, int] = {}
        if node is not None:
            _walk(node, (), lines, source)
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InputError(f"{where}: not valid YAML: {exc.problem or exc.context}", hint) from None
    except InputError as exc:  # a duplicate key
        raise InputError(exc.message, hint) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}", hint) from None
    finally:
        loader.dispose()
    return LocatedYaml(data, lines)


# JSON: numbers as int or Decimal ------------------------------------------------------------


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def _pairs(source: str) -> Any:
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                raise InputError(f"{source}: duplicate key {key!r}")
            out[key] = value
        return out

    return hook


# Only the nodes' positions are read from this composition: libyaml's composer, when present,
# is many times faster than the pure-Python one on a large file.
_FastComposer: Any = getattr(yaml, "CSafeLoader", _TextLoader)


def _json_lines(text: str, source: str) -> dict[Loc, int]:
    """The line of every key and item of a JSON text. JSON is (nearly) YAML, so the YAML
    composer can place them; when it cannot (a construct YAML reads differently), none."""
    lines: dict[Loc, int] = {}
    try:
        node = yaml.compose(text, Loader=_FastComposer)
        if node is not None:
            _walk(node, (), lines, source)
    except (yaml.YAMLError, InputError):
        lines = {}
    return lines


class _JsonLocated(LocatedYaml):
    """A JSON document whose lines are found only when a message first asks for one: composing
    a large file as a YAML node tree takes several times the memory and time of parsing it, and
    an import without a mistake never needs a line."""

    def __init__(self, data: Any, text: str, source: str) -> None:
        super().__init__(data, {})
        self._text: str | None = text
        self._source = source

    def line_of(self, path: Sequence[str | int]) -> int | None:
        if self._text is not None:
            self.lines = _json_lines(self._text, self._source)
            self._text = None
        return super().line_of(path)


def load_json_text(text: str, source: str) -> LocatedYaml:
    try:
        data = json.loads(
            text, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_pairs(source)
        )
    except json.JSONDecodeError as exc:
        raise InputError(f"{source}:{exc.lineno}: not valid JSON: {exc.msg}", JSON_HINT) from None
    except InputError as exc:  # a duplicate key
        raise InputError(exc.message, JSON_HINT) from None
    except ValueError as exc:
        raise InputError(f"{source}: not valid JSON: {exc}", JSON_HINT) from None
    return _JsonLocated(data, text, source)


# Files and directories ----------------------------------------------------------------------


def document_records(located: LocatedYaml, source: str) -> list[RawRecord]:
    """The records of one YAML or JSON document of the ledger shape."""
    data = located.data
    if data is None:
        return []
    if not isinstance(data, dict):
        raise InputError(f"{source}: expected a mapping with version, clients, invoices, ...")
    records: list[RawRecord] = []
    version = data.get("version", 1)
    if str(version) != "1":
        line = located.line_of(("version",))
        raise InputError(f"{source}:{line}: version: unsupported version {version!r} (expected 1)")
    for key, items in data.items():
        if key == "version":
            continue
        if key not in KINDS:
            known = ", ".join(KINDS)
            line = located.line_of((key,))
            raise InputError(f"{source}:{line}: {key}: unknown section (known: {known})")
        if items is None:
            continue
        if not isinstance(items, list):
            line = located.line_of((key,))
            raise InputError(f"{source}:{line}: {key}: expected a list of records")
        for index, item in enumerate(items):
            record = RawRecord(key, item, source, (key, index), located)
            if not isinstance(item, dict):
                raise InputError(f"{record.where()}: expected a mapping of fields")
            records.append(record)
    return records


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files to import: each file given, and every .yaml/.yml/.json/.csv in a directory given."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(
                p
                for p in path.iterdir()
                if p.is_file() and p.suffix.lower() in SUFFIXES and not p.name.startswith(".")
            )
            if not found:
                raise InputError(f"{path}: no .yaml, .yml, .json or .csv files in this directory")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise InputError(f"{path}: no such file or directory")
    return files
