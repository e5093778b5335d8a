"""Regular expressions on a linear-time engine (RE2), for the expression functions.

Python's ``re`` backtracks: ``(a+)+$`` against ``'a' * 24 + '!'`` takes
seconds and doubles with each ``a``, and a running ``re`` call cannot be
interrupted by any deadline. :func:`compile` uses RE2 (``google-re2``),
whose matching time is linear in the text. RE2 has no backreferences or
lookaround; for a pattern only Python's ``re`` accepts, the fallback policy
(``[expressions] regex_fallback``) decides:

- ``guarded`` (default): Python's ``re``, unless the pattern has a quantified
  part that itself holds a quantifier or an alternation (``(a+)+``,
  ``(a|aa)*``, ``(?:x*y)*``): those, the shapes of catastrophic backtracking,
  are refused with an error naming the pattern;
- ``refuse``: only patterns RE2 accepts;
- ``python``: every pattern on Python's ``re``, as Mistral does (no protection).

:class:`Regex` gives both engines one interface; every match found spends
fuel from the evaluation budget.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import re2

from wfaas.expressions import budget

FALLBACKS = ("guarded", "refuse", "python")
_fallback = "guarded"

_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False

_REPEATS = (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT",
                                                                 sre_parse.MAX_REPEAT))


class RegexRefused(ValueError):
    """A pattern the configured policy does not run."""


def set_fallback(policy: str) -> None:
    """Choose what happens to patterns RE2 cannot compile (see the module doc)."""
    global _fallback
    if policy not in FALLBACKS:
        raise ValueError(f"Unknown regex_fallback {policy!r}; known: {list(FALLBACKS)}")
    _fallback = policy
    _compile.cache_clear()


def _inline_flags(ignore_case: bool, multi_line: bool, dot_all: bool) -> str:
    flags = "".join(f for f, on in (("i", ignore_case), ("m", multi_line), ("s", dot_all)) if on)
    return f"(?{flags})" if flags else ""


def _risky(items: Any, inside_repeat: bool = False) -> bool:
    """Whether a parsed pattern repeats something that holds a quantifier or alternation."""
    for op, arg in items:
        if op in _REPEATS:
            low, high, sub = arg
            if inside_repeat and high != low:
                return True
            if _risky(sub, inside_repeat or high > 1):
                return True
        elif op is sre_parse.BRANCH:
            if inside_repeat:
                return True
            if any(_risky(branch, inside_repeat) for branch in arg[1]):
                return True
        elif op is sre_parse.SUBPATTERN:
            if _risky(arg[-1], inside_repeat):
                return True
        elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            if _risky(arg[1], inside_repeat):
                return True
    return False


class Regex:
    """A compiled pattern on RE2 or (by the fallback policy) Python's ``re``."""

    __slots__ = ("pattern", "engine", "_compiled")

    def __init__(self, pattern: str, engine: str, compiled: Any) -> None:
        self.pattern = pattern
        self.engine = engine
        self._compiled = compiled

    def __repr__(self) -> str:
        return f"regex({self.pattern!r})"

    @property
    def groupindex(self) -> dict[str, int]:
        """Named groups: name -> group number."""
        return dict(self._compiled.groupindex or {})

    def search(self, text: str) -> Any:
        """The first match in ``text`` or None."""
        budget.tick()
        return self._compiled.search(text)

    def finditer(self, text: str) -> Iterator[Any]:
        """Every non-overlapping match, spending fuel per match."""
        for match in self._compiled.finditer(text):
            budget.tick()
            yield match

    def split(self, text: str, max_split: int = 0) -> list[str | None]:
        """``re.split`` semantics: the pieces, with the groups' values between them."""
        if self.engine == "re":
            return list(self._compiled.split(text, max_split))
        pieces: list[str | None] = []
        end = 0
        for count, match in enumerate(self.finditer(text), 1):
            pieces.append(text[end:match.start()])
            pieces.extend(match.groups())
            end = match.end()
            if count == max_split:
                break
        pieces.append(text[end:])
        return pieces

    def sub(self, repl: str | Callable[[Any], str], text: str, count: int = 0) -> str:
        """``re.sub`` semantics (``\\1``, ``\\g<name>`` in a string template)."""
        expand = repl if callable(repl) else _template(repl, self._compiled)
        pieces: list[str] = []
        end = 0
        total = 0
        for done, match in enumerate(self.finditer(text), 1):
            piece = text[end:match.start()]
            value = expand(match)
            total += len(piece) + len(value)
            budget.precheck(total, "a replaced string")
            pieces.extend((piece, value))
            end = match.end()
            if done == count:
                break
        pieces.append(text[end:])
        return "".join(pieces)


def _template(repl: str, compiled: Any) -> Callable[[Any], str]:
    """The expansion of a replacement template with Python's rules."""
    names = dict(getattr(compiled, "groupindex", {}) or {})
    groups = getattr(compiled, "groups", 0)
    parsed = _parse_template(repl, names, groups)

    def expand(match: Any) -> str:
        return "".join(part if isinstance(part, str) else (match.group(part) or "")
                       for part in parsed)
    return expand


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "f": "\f", "v": "\v", "a": "\a", "b": "\b",
            "\\": "\\"}
_GROUP_REF = re.compile(r"\\(?:g<([^>]*)>|([1-9][0-9]?)|(.))", re.DOTALL)


def _parse_template(repl: str, names: dict[str, int], groups: int) -> list[str | int]:
    parts: list[str | int] = []
    end = 0
    for ref in _GROUP_REF.finditer(repl):
        parts.append(repl[end:ref.start()])
        end = ref.end()
        name, number, other = ref.groups()
        if other is not None:
            if other in _ESCAPES:
                parts.append(_ESCAPES[other])
            elif other.isascii() and other.isalpha():
                raise re.error(f"bad escape \\{other}")
            else:
                parts.append("\\" + other)
            continue
        key = name if name is not None else number
        index = int(key) if key.isdigit() else names.get(key)
        if index is None or index > groups:
            raise re.error(f"invalid group reference {key}")
        parts.append(index)
    parts.append(repl[end:])
    return parts


@functools.lru_cache(maxsize=1024)
def _compile(pattern: str, flags: str) -> Regex:
    if _fallback != "python":
        try:
            return Regex(pattern, "re2", re2.compile(flags + pattern, _RE2_OPTIONS))
        except re2.error:
            pass
    compiled = re.compile(flags + pattern)
    if _fallback == "refuse":
        raise RegexRefused(f"regular expression {pattern!r} needs backtracking (backreferences "
                           "or lookaround), which is not allowed ([expressions] regex_fallback)")
    if _fallback == "guarded" and _risky(sre_parse.parse(flags + pattern)):
        raise RegexRefused(
            f"regular expression {pattern!r} needs backtracking and has a nested quantifier "
            "(catastrophic backtracking risk), refused ([expressions] regex_fallback)")
    return Regex(pattern, "re", compiled)


def compile(pattern: str, ignore_case: bool = False, multi_line: bool = False,
            dot_all: bool = False) -> Regex:
    """``pattern`` compiled on RE2, or by the fallback policy; raises ``re.error`` /
    :class:`RegexRefused`."""
    return _compile(pattern, _inline_flags(ignore_case, multi_line, dot_all))
