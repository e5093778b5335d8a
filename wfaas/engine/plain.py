"""The shared base of events and commands: frozen dataclasses tagged with a ``kind``."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

T = TypeVar("T", bound="Tagged")
#: the field names of each Tagged class, in order (``dataclasses.fields`` builds them
#: anew on every call)
_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


@dataclass(frozen=True)
class Tagged:
    """A frozen dataclass that travels as plain data tagged with its ``kind``."""

    kind: ClassVar[str] = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain data: ``{"kind": <kind>, <field>: <value>, ...}`` (shallow)."""
        names = _FIELD_NAMES.get(type(self))
        if names is None:
            names = _FIELD_NAMES[type(self)] = tuple(f.name for f in dataclasses.fields(self))
        data: dict[str, Any] = {"kind": self.kind}
        for name in names:
            data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Rebuild an instance of this class from its ``to_dict()`` output."""
        if data.get("kind") != cls.kind:
            raise ValueError(f"not a {cls.kind!r}: {data.get('kind')!r}")
        return from_tagged_dict({cls.kind: cls}, data)


def from_tagged_dict(types: dict[str, type[T]], data: dict[str, Any]) -> T:
    """Rebuild the instance that ``to_dict()`` wrote, choosing its class by ``kind``."""
    values = dict(data)
    kind = values.pop("kind")
    return types[kind](**values)
