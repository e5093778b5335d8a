"""Loading differential cases from YAML files.

A case file holds one case (a mapping with ``name``) or several (``cases: [...]``). Keys of a case:

``name``          unique id (also the golden file name)
``workflows``     text of a workflow file (``POST /v2/workflows``); a list for several files
``workbook``      text of a workbook (``POST /v2/workbooks``)
``actions``       text of an ad-hoc action file (``POST /v2/actions``)
``environments``  mapping env name -> variables (created before the run, names made unique)
``workflow``      name of the workflow to start (default: the first one in ``workflows``)
``input``         execution input; ``params``: execution params (``env`` may name an environment)
``steps``         optional explicit script (see runner.py); default: start, wait, observe
``expect``        optional regexes: ``state_info`` (execution), ``tasks: {name: regex}``,
                  ``error`` (HTTP error text of a failed upload/start)
``exact_info``    true: state_info, error and other texts compared whole, not by their first words
``timeout``       seconds to wait for a terminal state (default 60)
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import yaml

CASE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclasses.dataclass
class Case:
    """One differential case as written in the YAML file."""

    name: str
    data: dict[str, Any]
    source: Path

    def get(self, key: str, default: Any = None) -> Any:
        """A key of the case mapping."""
        return self.data.get(key, default)


def _as_cases(doc: Any, path: Path) -> list[Case]:
    if not isinstance(doc, dict):
        raise ValueError(f"{path}: a case file holds a mapping")
    items = doc["cases"] if "cases" in doc else [doc]
    out = []
    for item in items:
        name = item.get("name")
        if not isinstance(name, str) or not CASE_NAME.match(name):
            raise ValueError(f"{path}: bad or missing case name {name!r}")
        out.append(Case(name, item, path))
    return out


def load_cases(root: Path, only: list[str] | None = None) -> list[Case]:
    """Every case under *root* (``*.yaml``), filtered by name regexes *only*."""
    cases: list[Case] = []
    seen: dict[str, Path] = {}
    for path in sorted(root.rglob("*.yaml")):
        for case in _as_cases(yaml.safe_load(path.read_text()), path):
            if case.name in seen:
                raise ValueError(f"duplicate case {case.name} in {path} and {seen[case.name]}")
            seen[case.name] = path
            cases.append(case)
    if only:
        pats = [re.compile(p) for p in only]
        cases = [c for c in cases if any(p.search(c.name) for p in pats)]
    return cases
