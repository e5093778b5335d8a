"""Safe YAML loading that remembers where every value came from.

The text is composed into a node graph with a safe loader (libyaml when
available), then converted to plain Python data by our own walker, which:

- records the 1-based line and column of every key and value by *path* (a tuple
  of mapping keys and list indices), so validation can point at the offending node;
- counts the nodes it produces and refuses a document over a node budget, which
  neutralises anchor/alias blow-up ("billion laughs"): aliases are shared in the
  node graph, so the expansion only happens here, and here it is bounded;
- reports duplicate mapping keys and unsupported tags instead of silently
  picking one.

Documents over ``max_bytes`` are refused before parsing (:class:`DocumentTooLarge`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from wfaas.exceptions import DocumentTooLarge, DSLError, Problem

Path = tuple[Any, ...]
Pos = tuple[int, int]

#: Largest number of nodes one document may expand to (aliases counted each time).
MAX_NODES = 1_000_000
#: Largest number of alias references in one document.
MAX_ALIASES = 1_000

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {
    "tag:yaml.org,2002:null", "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
}
_SEQ = "tag:yaml.org,2002:seq"
_MAP = "tag:yaml.org,2002:map"


class _Loader(_Base):  # type: ignore[misc]
    """The safe loader used for composing (never constructs arbitrary objects)."""


@dataclass
class Located:
    """Plain data of a document plus the position of every key and value."""

    data: Any
    values: dict[Path, Pos] = field(default_factory=dict)
    keys: dict[Path, Pos] = field(default_factory=dict)
    text: str = ""

    def pos(self, path: Path, *, key: bool = False) -> Pos | None:
        """Position of the value (or the key) at ``path``, else of the nearest ancestor."""
        table = self.keys if key else self.values
        p = tuple(path)
        if p in table:
            return table[p]
        while p:
            p = p[:-1]
            if p in self.values:
                return self.values[p]
        return None


class _Walker:
    """Converts a composed node graph to plain data, recording positions."""

    def __init__(self, max_nodes: int, max_aliases: int) -> None:
        self.max_nodes = max_nodes
        self.max_aliases = max_aliases
        self.nodes = 0
        self.aliases = 0
        self.seen: set[int] = set()
        self.constructor = yaml.SafeLoader("")
        self.out = Located(None)
        self.problems: list[Problem] = []

    def _count(self, node: yaml.Node) -> None:
        self.nodes += 1
        if id(node) in self.seen and not isinstance(node, yaml.ScalarNode):
            self.aliases += 1
            if self.aliases > self.max_aliases:
                raise _Budget(f"too many alias references (more than {self.max_aliases})")
        if self.nodes > self.max_nodes:
            raise _Budget(f"the document expands to more than {self.max_nodes} nodes "
                          "(anchor/alias expansion is limited)")

    def walk(self, node: yaml.Node, path: Path) -> Any:
        self._count(node)
        self.out.values.setdefault(path, _mark(node))
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        self.seen.add(id(node))
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self._tag_problem(node, path)
            return [self.walk(child, path + (i,)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP:
                self._tag_problem(node, path)
            return self._mapping(node, path)
        return None  # pragma: no cover - composer yields only the three kinds

    def _scalar(self, node: yaml.ScalarNode, path: Path) -> Any:
        if node.tag in _PLAIN_TAGS:
            return self.constructor.construct_object(node)
        if node.tag != _STR and not node.tag.startswith("tag:yaml.org,2002:"):
            self._tag_problem(node, path)
        return node.value

    def _tag_problem(self, node: yaml.Node, path: Path) -> None:
        line, col = _mark(node)
        self.problems.append(Problem(_dotted(path), f"unsupported YAML tag {node.tag}",
                                     line, col))

    def _mapping(self, node: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: list[dict[Any, Any]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                value = self.walk(value_node, path)
                items = value if isinstance(value, list) else [value]
                merged.extend(v for v in items if isinstance(v, dict))
                continue
            self._count(key_node)
            key = self._scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) \
                else str(self.walk(key_node, path))
            if not isinstance(key, str | int | float | bool) and key is not None:
                key = str(key)
            kpath = path + (key,)
            if key in result:
                line, col = _mark(key_node)
                first = self.out.keys.get(kpath, (None, None))[0]
                self.problems.append(Problem(
                    _dotted(kpath), f"duplicate key '{key}' (first defined at line {first})",
                    line, col))
            self.out.keys[kpath] = _mark(key_node)
            self.out.values[kpath] = _mark(value_node)
            result[key] = self.walk(value_node, kpath)
        for extra in merged:
            for k, v in extra.items():
                result.setdefault(k, v)
        return result


class _Budget(Exception):
    pass


def _mark(node: yaml.Node) -> Pos:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _dotted(path: Path) -> str:
    out = ""
    for part in path:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def dotted(path: Path) -> str:
    """Render a path tuple as ``a.b[0].c``."""
    return _dotted(path)


def check_size(text: str, max_bytes: int | None) -> None:
    """Raise :class:`DocumentTooLarge` when ``text`` is over ``max_bytes`` (UTF-8)."""
    if max_bytes is None:
        return
    size = len(text.encode("utf-8"))
    if size > max_bytes:
        msg = f"The document is {size} bytes, over the limit of {max_bytes} bytes"
        raise DocumentTooLarge(msg, [Problem("", msg)])


def load(text: str, *, max_bytes: int | None = None, max_nodes: int = MAX_NODES,
         max_aliases: int = MAX_ALIASES) -> tuple[Located, list[Problem]]:
    """Parse ``text`` into :class:`Located` data and the problems met on the way.

    Raises :class:`DSLError` when the text is not YAML at all or expands too much,
    and :class:`DocumentTooLarge` over ``max_bytes``.
    """
    if not isinstance(text, str):
        raise DSLError("The definition must be text", [Problem("", "the definition must be text")])
    check_size(text, max_bytes)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        msg = f"Definition could not be parsed: {exc.problem or exc.context}"
        if "mapping values are not allowed" in msg:
            msg += " (quote a value that contains ': ')"
        raise DSLError(msg, [Problem("", msg, line, col)]) from None
    except yaml.YAMLError as exc:
        msg = f"Definition could not be parsed: {exc}"
        raise DSLError(msg, [Problem("", msg)]) from None
    finally:
        loader.dispose()
    walker = _Walker(max_nodes, max_aliases)
    walker.out.text = text
    if node is None:
        return walker.out, walker.problems
    try:
        walker.out.data = walker.walk(node, ())
    except _Budget as exc:
        msg = f"Definition refused: {exc}"
        raise DSLError(msg, [Problem("", msg)]) from None
    except RecursionError:
        msg = "Definition refused: nested too deeply"
        raise DSLError(msg, [Problem("", msg)]) from None
    return walker.out, walker.problems
