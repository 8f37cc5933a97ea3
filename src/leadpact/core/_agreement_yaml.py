"""YAML for agreements: a YAML 1.2-like resolver, exact decimals, a canonical dumper.

PyYAML speaks YAML 1.1, where ``NO`` (Norway) is false and ``9:00`` is 540. Agreements are read
and written with a stricter resolver: booleans are only true/false, integers only decimal digits,
numbers with a point are read as exact :class:`~decimal.Decimal` (never float), dates are
``YYYY-MM-DD``. Duplicate keys in a mapping are an error rather than silently overwritten.
"""

from __future__ import annotations

import io
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.emitter import Emitter
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.representer import SafeRepresenter
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner
from yaml.serializer import Serializer

from leadpact.core._agreement_model import decimal_text

__all__ = ["Flow", "YamlSyntaxError", "dump_yaml", "load_yaml"]

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_NULL = "tag:yaml.org,2002:null"
_STR = "tag:yaml.org,2002:str"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"


class _Resolver(BaseResolver):
    """Implicit types close to YAML 1.2's core schema."""


_Resolver.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver.add_implicit_resolver(_NULL, re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver.add_implicit_resolver(_INT, re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789"))
_Resolver.add_implicit_resolver(
    _FLOAT,
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?[0-9]+[eE][-+]?[0-9]+)$"),
    list("-+0123456789."),
)
_Resolver.add_implicit_resolver(_TIMESTAMP, re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"), list("0123456789"))


class _Constructor(SafeConstructor):
    def construct_yaml_float(self, node: Node) -> Any:
        text = str(self.construct_scalar(node))  # type: ignore[arg-type]
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ConstructorError(None, None, f"cannot read number {text!r}", node.start_mark) from None

    def construct_yaml_timestamp(self, node: Node) -> Any:
        # an impossible date (2026-13-01) stays text, so validation can name its path
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[arg-type]
        except ValueError:
            return str(self.construct_scalar(node))  # type: ignore[arg-type]

    def construct_yaml_int(self, node: Node) -> Any:
        return int(str(self.construct_scalar(node)))  # type: ignore[arg-type]

    def construct_mapping(self, node: Node, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=True)
                try:
                    duplicate = key in seen
                    seen.add(key)
                except TypeError:
                    continue
                if duplicate:
                    raise ConstructorError(
                        "while reading a mapping",
                        node.start_mark,
                        f"found duplicate key {key!r}",
                        key_node.start_mark,
                    )
        return super().construct_mapping(node, deep=deep)  # type: ignore[arg-type]


_Constructor.add_constructor(_FLOAT, _Constructor.construct_yaml_float)  # type: ignore[type-var]
_Constructor.add_constructor(_INT, _Constructor.construct_yaml_int)  # type: ignore[type-var]
_Constructor.add_constructor(_MAP, _Constructor.construct_yaml_map)  # type: ignore[type-var]
_Constructor.add_constructor(_TIMESTAMP, _Constructor.construct_yaml_timestamp)  # type: ignore[type-var]


class _Loader(Reader, Scanner, Parser, Composer, _Constructor, _Resolver):
    """The pure-Python reader (used when libyaml is missing)."""

    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor.__init__(self)
        _Resolver.__init__(self)


if getattr(yaml, "__with_libyaml__", False):
    from yaml._yaml import CParser

    class _FastLoader(CParser, _Constructor, _Resolver):
        """libyaml's scanner and parser (about 10 times faster) with the agreement constructor."""

        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _Constructor.__init__(self)
            _Resolver.__init__(self)

    _LOADER: type[_Loader] | type[_FastLoader] = _FastLoader
else:  # pragma: no cover - PyYAML wheels ship libyaml
    _LOADER = _Loader


class YamlSyntaxError(ValueError):
    """YAML that cannot be read; ``line`` and ``column`` are 1-based (0 when unknown)."""

    def __init__(self, message: str, line: int, column: int) -> None:
        self.message = message
        self.line = line
        self.column = column
        super().__init__(f"line {line}, column {column}: {message}" if line else message)


def load_yaml(text: str) -> object:
    """Read one YAML document with the agreement resolver."""
    loader = _LOADER(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = " ".join(part for part in (exc.context, exc.problem) if part) or "invalid yaml"
        if mark is None:
            raise YamlSyntaxError(message, 0, 0) from None
        raise YamlSyntaxError(message, mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(str(exc), 0, 0) from None
    finally:
        loader.dispose()
    if _shares_containers(data):
        raise YamlSyntaxError("anchors and aliases (& and *) are not supported in agreements", 0, 0)
    return data


def _shares_containers(data: object) -> bool:
    """Whether a mapping or list occurs twice (an alias): refused, it could recurse or explode."""
    seen: set[int] = set()
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, dict | list):
            if id(item) in seen:
                return True
            seen.add(id(item))
            stack.extend(item.values() if isinstance(item, dict) else item)
    return False


class Flow(dict[str, object]):
    """A mapping written in flow style (``{field: email, check: email}``)."""


_ODD_BREAKS = ("\r", "\x85", "\u2028", "\u2029")


class _Representer(SafeRepresenter):
    def represent_decimal(self, data: Decimal) -> ScalarNode:
        text = decimal_text(data)
        tag = _INT if "." not in text else _FLOAT
        return self.represent_scalar(tag, text)

    def represent_str(self, data: str) -> ScalarNode:
        if any(ch in data for ch in _ODD_BREAKS):
            # YAML readers fold these line breaks; only escapes in double quotes keep them
            return self.represent_scalar(_STR, data, style='"')
        if "\n" in data:
            return self.represent_scalar(_STR, data, style="|")
        return self.represent_scalar(_STR, data)

    def represent_list(self, data: Any) -> SequenceNode:
        flow = all(not isinstance(item, Mapping | list | tuple) for item in data)
        return self.represent_sequence(_SEQ, list(data), flow_style=flow)

    def represent_dict(self, data: Any) -> MappingNode:
        return self.represent_mapping(_MAP, list(data.items()), flow_style=False)

    def represent_flow(self, data: Any) -> MappingNode:
        return self.represent_mapping(_MAP, list(data.items()), flow_style=True)


_Representer.add_representer(Decimal, _Representer.represent_decimal)
_Representer.add_representer(str, _Representer.represent_str)
_Representer.add_representer(list, _Representer.represent_list)
_Representer.add_representer(tuple, _Representer.represent_list)
_Representer.add_representer(dict, _Representer.represent_dict)
_Representer.add_representer(Flow, _Representer.represent_flow)


class _Dumper(Emitter, Serializer, _Representer, _Resolver):
    def __init__(self, stream: Any) -> None:
        Emitter.__init__(self, stream, canonical=False, indent=2, width=100, allow_unicode=True)
        Serializer.__init__(self, explicit_start=False, explicit_end=False)
        _Representer.__init__(self, default_style=None, default_flow_style=False, sort_keys=False)
        _Resolver.__init__(self)

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # lists inside mappings are indented under their key
        super().increase_indent(flow, False)


def dump_yaml(data: Mapping[str, object]) -> str:
    """Write plain data as canonical YAML (fixed style, unicode kept, exact decimals)."""
    stream = io.StringIO()
    dumper = _Dumper(stream)
    try:
        dumper.open()
        dumper.represent(dict(data))
        dumper.close()
    finally:
        dumper.dispose()
    return stream.getvalue()
