"""YAML reading that remembers where each value came from, for errors that name the line; and
round-trip editing that changes values in place and keeps the comments and order around them."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qbsync.errors import InputError

if TYPE_CHECKING:  # PyYAML is loaded by what parses (15 ms): a config read from its cache does not
    import yaml


@dataclass
class LocatedYaml:
    """Parsed data plus the line (1-based) of every mapping key and sequence item."""

    data: Any
    lines: dict[tuple[str | int, ...], int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of `path`, or of its nearest ancestor that has one."""
        key = tuple(path)
        while key:
            if key in self.lines:
                return self.lines[key]
            key = key[:-1]
        return None


def _walk(node: yaml.Node, path: tuple[str | int, ...], lines: dict) -> None:
    import yaml

    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            lines[(*path, key)] = key_node.start_mark.line + 1
            _walk(value_node, (*path, key), lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*path, index)] = item.start_mark.line + 1
            _walk(item, (*path, index), lines)


@functools.cache
def _loader() -> type[yaml.SafeLoader]:
    import yaml

    class Loader(yaml.SafeLoader):
        """The safe loader, whose impossible dates (2026-13-01) are errors at their line
        instead of a bare "month must be in 1..12" from the date constructor."""

        def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError as exc:
                raise yaml.constructor.ConstructorError(
                    None, None, f"{node.value!r} is not a date ({exc})", node.start_mark
                ) from None

    Loader.add_constructor("tag:yaml.org,2002:timestamp", Loader.construct_yaml_timestamp)
    return Loader


YAML_HINT = "fix the YAML at that line and run again"
UTF8_HINT = "save the file as UTF-8 text and run again"


def load_located(text: str, source: str, hint: str = YAML_HINT) -> LocatedYaml:
    """Parse YAML text; a syntax error becomes an InputError naming `source` and the line,
    with `hint` as the next step."""
    import yaml

    loader = _loader()
    try:
        data = yaml.load(text, Loader=loader)  # a SafeLoader: no Python objects
        node = yaml.compose(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"{source}:{mark.line + 1}" if mark else source
        raise InputError(f"{where}: not valid YAML: {exc.problem}", hint) from None
    except yaml.YAMLError as exc:
        raise InputError(f"{source}: not valid YAML: {exc}", hint) from None
    lines: dict[tuple[str | int, ...], int] = {}
    if node is not None:
        _walk(node, (), lines)
    return LocatedYaml(data, lines)


def read_text(path: Path, encoding: str = "utf-8-sig") -> str:
    """A text file read whole (a UTF-8 byte order mark dropped); a file that cannot be read, or
    is not UTF-8, is an InputError naming it (and, for the latter, the first bad byte's line)."""
    try:
        return path.read_text(encoding=encoding)
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise not_utf8(path) from None


def not_utf8(path: Path) -> InputError:
    """The error for a file that does not decode as UTF-8: `<path>: not UTF-8 text (byte 0xfc
    at line 3)`. The file is read again, line by line, to find the byte: only once it failed."""
    found = _first_bad_byte(path)
    detail = f" (byte 0x{found[0]:02x} at line {found[1]})" if found else ""
    return InputError(f"{path}: not UTF-8 text{detail}", UTF8_HINT)


def _first_bad_byte(path: Path) -> tuple[int, int] | None:
    """(the first byte that does not decode, its line), or None. A line break never falls
    inside a UTF-8 sequence, so each line decodes on its own."""
    try:
        with path.open("rb") as handle:
            for number, line in enumerate(handle, 1):
                try:
                    line.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return line[exc.start], number
    except OSError:
        return None
    return None


def read_located(path: Path) -> LocatedYaml:
    return load_located(read_text(path, "utf-8"), str(path))


def dotted(path: Sequence[str | int]) -> str:
    """('companies', 'acme', 'go_live') -> 'companies.acme.go_live'; list items as [n]."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


Same = Callable[[tuple[str, ...], Any, Any], bool]


def _merge(node: Any, data: Mapping[str, Any], path: tuple[str, ...], same: Same) -> None:
    from ruamel.yaml.comments import CommentedMap

    for key in [k for k in node if k not in data]:
        del node[key]
    for key, value in data.items():
        here = (*path, key)
        if isinstance(value, Mapping):
            child = node.get(key)
            if not isinstance(child, CommentedMap):
                child = CommentedMap()
                node[key] = child
            _merge(child, value, here, same)
        elif key not in node or not same(here, node[key], value):
            node[key] = value


def round_trip_update(text: str, data: Mapping[str, Any], same: Same) -> str:
    """`text` (a YAML mapping) edited to hold exactly `data`: keys missing from `data` go, new
    ones are added at the end of their section, and a value `same` finds unchanged is kept as
    written; comments and the order of the keys that stay are kept."""
    from ruamel.yaml import YAML  # imported here: only writers of a file pay for it
    from ruamel.yaml.comments import CommentedMap

    editor = YAML()
    editor.preserve_quotes = True
    editor.width = 4096
    editor.indent(mapping=2, sequence=4, offset=2)
    doc = editor.load(text) if text.strip() else None
    if not isinstance(doc, CommentedMap):
        doc = CommentedMap()
    _merge(doc, data, (), same)
    out = io.StringIO()
    editor.dump(doc, out)
    return out.getvalue()
