"""The actions of wfaas-pack-utils.

Each class subclasses ``wfaas.actions.Action``: its ``__init__`` keyword
arguments are the action's parameters (what ``GET /v2/actions/<name>`` shows),
its docstring's first paragraph is the description, and ``run(context)``
returns JSON data or a ``Result``. Raise ``ActionException`` for a clean failure.

File actions are confined to the directory in the environment variable
``WFAAS_PACK_UTILS_ROOT`` when it is set on the executor.
"""

from __future__ import annotations

import os
import string
import subprocess
from pathlib import Path
from typing import Any

from wfaas.actions import Action, ActionContext, ActionException, Result

ROOT_ENV = "WFAAS_PACK_UTILS_ROOT"
MAX_OUTPUT = 1024 * 1024


def _confined(path: str) -> Path:
    """Resolve ``path``; refuse it when outside $WFAAS_PACK_UTILS_ROOT (if set)."""
    resolved = Path(path).expanduser().resolve()
    root = os.environ.get(ROOT_ENV)
    if root:
        base = Path(root).expanduser().resolve()
        if resolved != base and base not in resolved.parents:
            raise ActionException(f"Path {path} is outside {ROOT_ENV}={root}")
    return resolved


def _text(raw: bytes) -> str:
    text = raw[:MAX_OUTPUT].decode("utf-8", errors="replace")
    return text + ("\n[truncated]" if len(raw) > MAX_OUTPUT else "")


class ShellAction(Action):
    """Runs a command on the executor and returns its stdout, stderr and exit code.

    A string command runs through /bin/sh; a list runs without a shell. With
    check=true a non-zero exit code makes the result an error (same dict).
    """

    def __init__(self, command: str | list[str], timeout: float = 60, cwd: str | None = None,
                 env: dict[str, str] | None = None, stdin: str | None = None,
                 check: bool = False) -> None:
        if not command:
            raise ActionException("utils.shell: command is empty")
        self.command = command
        self.timeout = float(timeout)
        self.cwd = cwd
        self.env = env
        self.stdin = stdin
        self.check = check

    def run(self, context: ActionContext) -> Any:
        """Run the command, killing it after ``timeout`` seconds."""
        env = {**os.environ, **{str(k): str(v) for k, v in (self.env or {}).items()}}
        try:
            proc = subprocess.run(self.command, shell=isinstance(self.command, str),
                                  cwd=self.cwd, env=env, capture_output=True,
                                  input=self.stdin.encode() if self.stdin is not None else None,
                                  timeout=self.timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise ActionException(f"utils.shell: command timed out after {self.timeout:g} s"
                                  ) from exc
        except OSError as exc:
            raise ActionException(f"utils.shell: cannot run command: {exc}") from exc
        out = {"stdout": _text(proc.stdout), "stderr": _text(proc.stderr),
               "exit_code": proc.returncode}
        if self.check and proc.returncode != 0:
            return Result(error=out)
        return out


class JsonGetAction(Action):
    """Returns the value at a dotted path in JSON data, e.g. "servers.0.name".

    Path items are dict keys or list indexes; a missing item returns the
    default (or fails when no default is given and required=true).
    """

    def __init__(self, data: Any, path: str, default: Any = None,
                 required: bool = False) -> None:
        self.data = data
        self.path = path
        self.default = default
        self.required = required

    def run(self, context: ActionContext) -> Any:
        """Walk the path."""
        current = self.data
        for item in [p for p in str(self.path).split(".") if p != ""]:
            if isinstance(current, dict) and item in current:
                current = current[item]
            elif isinstance(current, list) and item.lstrip("-").isdigit() \
                    and -len(current) <= int(item) < len(current):
                current = current[int(item)]
            elif self.required:
                raise ActionException(f"utils.json_get: no item {item!r} in path {self.path}")
            else:
                return self.default
        return current


class FileReadAction(Action):
    """Reads a text file on the executor and returns its content."""

    def __init__(self, path: str, encoding: str = "utf-8", max_bytes: int = MAX_OUTPUT) -> None:
        self.path = path
        self.encoding = encoding
        self.max_bytes = int(max_bytes)

    def run(self, context: ActionContext) -> Any:
        """Return the content (fails if the file is larger than max_bytes)."""
        path = _confined(self.path)
        try:
            size = path.stat().st_size
            if size > self.max_bytes:
                raise ActionException(f"utils.file_read: {self.path} has {size} bytes, "
                                      f"more than max_bytes={self.max_bytes}")
            return path.read_text(encoding=self.encoding)
        except OSError as exc:
            raise ActionException(f"utils.file_read: {exc.strerror}: {self.path}") from exc


class FileWriteAction(Action):
    """Writes (or appends) text to a file on the executor; returns its path and size."""

    def __init__(self, path: str, content: str, append: bool = False,
                 encoding: str = "utf-8", make_dirs: bool = False) -> None:
        self.path = path
        self.content = content
        self.append = append
        self.encoding = encoding
        self.make_dirs = make_dirs

    def run(self, context: ActionContext) -> Any:
        """Write the file."""
        path = _confined(self.path)
        try:
            if self.make_dirs:
                path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a" if self.append else "w", encoding=self.encoding) as fh:
                fh.write(str(self.content))
            return {"path": str(path), "size": path.stat().st_size}
        except OSError as exc:
            raise ActionException(f"utils.file_write: {exc.strerror}: {self.path}") from exc


class TemplateAction(Action):
    """Fills a $name / ${name} template with values and returns the text.

    With strict=true a placeholder without a value fails the action; otherwise
    it is left as is.
    """

    def __init__(self, template: str, values: dict[str, Any] | None = None,
                 strict: bool = True) -> None:
        self.template = template
        self.values = values or {}
        self.strict = strict

    def run(self, context: ActionContext) -> Any:
        """Substitute."""
        tpl = string.Template(str(self.template))
        try:
            if self.strict:
                return tpl.substitute(self.values)
            return tpl.safe_substitute(self.values)
        except KeyError as exc:
            raise ActionException(f"utils.template: no value for placeholder {exc}") from exc
        except ValueError as exc:
            raise ActionException(f"utils.template: {exc}") from exc
