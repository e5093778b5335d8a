"""One-line syntaxes of the DSL: inline parameters, with-items, input strings.

``action: std.http url=<% $.u %> method=GET`` and ``fail msg="x"`` /
``fail(msg=<% $.m %>)`` share one tokenizer: a command (a name or one
expression) followed by ``name=value`` pairs. A value is a quoted string
(quotes removed, taken as is), an expression, a JSON list/object, or a bare word
(JSON-decoded when it is ``true``/``false``/``null``/a number, else a string).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from wfaas.exceptions import DSLError, Problem
from wfaas.lang.specs import InputParam

_EXPR_OPEN = {"<%": "%>", "{{": "}}", "{%": "%}"}
_EXPR_RE = re.compile(r"<%.*?%>|\{\{.*?\}\}|\{%.*?%\}", re.S)
_ONE_EXPR_RE = re.compile(r"^\s*(<%.*%>|\{\{.*\}\}|\{%.*%\})\s*$", re.S)
_NAME_RE = re.compile(r"[-\w]+")
_WITH_ITEMS_RE = re.compile(r"^\s*([-\w]+)\s+in\s+(.+?)\s*$", re.S)


def has_expression(value: str) -> bool:
    """True when the string holds a ``<% %>``, ``{{ }}`` or ``{% %}`` expression."""
    return bool(_EXPR_RE.search(value))


def is_expression(value: Any) -> bool:
    """True when ``value`` is a string that starts and ends with an expression.

    Like Mistral's schema, ``<% $.a %>-<% $.b %>`` and a Jinja block template
    ``{% if x %}a{% endif %}`` count: they evaluate to a value at run time.
    """
    return isinstance(value, str) and bool(_ONE_EXPR_RE.match(value))


def _skip_expr(text: str, pos: int) -> int:
    """Index just after the expression starting at ``pos`` (or -1 if unclosed)."""
    close = _EXPR_OPEN[text[pos:pos + 2]]
    end = text.find(close, pos + 2)
    return -1 if end < 0 else end + 2


def _skip_brackets(text: str, pos: int) -> int:
    """Index after the balanced ``[...]`` / ``{...}`` starting at ``pos`` (-1 if unbalanced)."""
    depth = 0
    quote = ""
    i = pos
    while i < len(text):
        ch = text[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return -1


def _scan_word(text: str, pos: int, stops: str) -> tuple[int, str | None]:
    """Scan a bare word (expressions inside may contain spaces); return end and error."""
    i = pos
    while i < len(text) and not text[i].isspace() and text[i] not in stops:
        if text[i:i + 2] in _EXPR_OPEN:
            end = _skip_expr(text, i)
            if end < 0:
                return len(text), f"unclosed expression starting at '{text[i:i + 20]}'"
            i = end
        else:
            i += 1
    return i, None


def _decode_bare(word: str) -> Any:
    if has_expression(word):
        return word
    try:
        return json.loads(word)
    except ValueError:
        return word


def _scan_value(text: str, pos: int, stops: str) -> tuple[Any, int, str | None]:
    """Parse one value at ``pos``; return (value, end, error)."""
    if pos >= len(text) or text[pos].isspace():
        return None, pos, "missing value after '='"
    ch = text[pos]
    if ch in ("\"", "'"):
        end = text.find(ch, pos + 1)
        if end < 0:
            return None, len(text), f"unclosed quote in '{text[pos:pos + 30]}'"
        return text[pos + 1:end], end + 1, None
    if ch in "[{" and text[pos:pos + 2] not in _EXPR_OPEN:
        end = _skip_brackets(text, pos)
        if end < 0:
            return None, len(text), f"unbalanced brackets in '{text[pos:pos + 30]}'"
        raw = text[pos:end]
        try:
            return json.loads(raw), end, None
        except ValueError:
            return raw, end, None
    end, err = _scan_word(text, pos, stops)
    if end == pos:
        return None, end, "missing value after '='"
    return _decode_bare(text[pos:end]), end, err


def parse_params(text: str, *, separators: str = "") -> tuple[dict[str, Any], list[str]]:
    """Parse ``a=1 b="x" c=<% $.y %>`` into a dict; also return error messages."""
    params: dict[str, Any] = {}
    errors: list[str] = []
    pos = 0
    n = len(text)
    while pos < n:
        while pos < n and (text[pos].isspace() or text[pos] in separators):
            pos += 1
        if pos >= n:
            break
        m = _NAME_RE.match(text, pos)
        if not m or m.end() >= n or text[m.end()] != "=":
            bad = text[pos:].split()[0] if text[pos:].split() else text[pos:]
            errors.append(f"expected 'name=value', found '{bad}'")
            end, _ = _scan_word(text, pos, separators)
            pos = max(end, pos + 1)
            continue
        value, pos, err = _scan_value(text, m.end() + 1, separators)
        if err:
            errors.append(f"parameter '{m.group()}': {err}")
            continue
        if m.group() in params:
            errors.append(f"parameter '{m.group()}' is given twice")
        params[m.group()] = value
    return params, errors


def split_command(text: str) -> tuple[str, dict[str, Any], list[str]]:
    """Split ``cmd a=1 b=2`` or ``cmd(a=1, b=2)`` into (cmd, params, errors)."""
    text = text.strip()
    if not text:
        return "", {}, ["the name is empty"]
    if text[:2] in _EXPR_OPEN:
        end = _skip_expr(text, 0)
        if end < 0:
            return text, {}, ["unclosed expression"]
    else:
        end = 0
        while end < len(text) and not text[end].isspace() and text[end] not in "(=\"'":
            end += 1
    cmd, rest = text[:end], text[end:].strip()
    if not cmd:
        return text, {}, [f"cannot find a name in '{text}'"]
    if not rest:
        return cmd, {}, []
    if rest.startswith("("):
        if not rest.endswith(")"):
            return cmd, {}, [f"missing ')' in '{text}'"]
        params, errors = parse_params(rest[1:-1], separators=",")
    else:
        params, errors = parse_params(rest)
    return cmd, params, errors


def parse_inline_params(text: str) -> tuple[str, dict[str, Any]]:
    """``"std.http url=<% $.u %> method=GET"`` -> ``("std.http", {"url": ..., "method": "GET"})``.

    Raises :class:`DSLError` when the text cannot be parsed.
    """
    cmd, params, errors = split_command(text)
    if errors:
        raise DSLError(f"Invalid inline parameters in '{text}': " + "; ".join(errors),
                       [Problem("", e) for e in errors])
    return cmd, params


def parse_with_items_entry(text: str) -> tuple[str, Any, str | None]:
    """``"x in <% $.l %>"`` -> ("x", "<% $.l %>", None); literal lists are decoded."""
    m = _WITH_ITEMS_RE.match(text)
    if not m:
        return "", None, ("must look like 'var in <% $.list %>', 'var in {{ _.list }}' "
                          "or 'var in [1, 2]'")
    var, coll = m.group(1), m.group(2)
    if coll.startswith("[") and not is_expression(coll):
        try:
            return var, json.loads(coll), None
        except json.JSONDecodeError as exc:
            return var, coll, f"invalid list '{coll}': {exc.msg}"
    if not is_expression(coll):
        return var, coll, (f"the collection '{coll}' must be one expression "
                           "(<% ... %> or {{ ... }}) or a JSON list")
    return var, coll, None


_JSON_TYPES = ((bool, "boolean"), (int, "integer"), (float, "number"), (str, "string"),
               (list, "array"), (tuple, "array"), (dict, "object"))


def input_json_schema(params: Sequence[Any]) -> dict[str, Any]:
    """JSON Schema of an input signature (``InputParam``s, or action parameters with a
    ``var_keyword`` flag): the required names, each default, and a type guessed from it."""
    props: dict[str, Any] = {}
    required, extra = [], False
    for p in params:
        if getattr(p, "var_keyword", False):
            extra = True
            continue
        prop: dict[str, Any] = {}
        if p.has_default:
            prop["default"] = p.default
            typ = next((name for t, name in _JSON_TYPES if isinstance(p.default, t)), None)
            if typ:
                prop["type"] = [typ, "null"]
        else:
            required.append(p.name)
        props[p.name] = prop
    return {"type": "object", "properties": props, "required": required,
            "additionalProperties": extra}


def render_input(params: Sequence[InputParam]) -> str:
    """Mistral's input signature string: ``a, b="x", c=null``."""
    parts = []
    for p in params:
        if p.has_default:
            parts.append(f"{p.name}={json.dumps(p.default, sort_keys=False, default=str)}")
        else:
            parts.append(p.name)
    return ", ".join(parts)
