"""Helpers shared by the controllers: query arguments and definition checksums."""

from __future__ import annotations

import hashlib

from wfaas.api.context import ApiRequest
from wfaas.api.errors import BadRequest
from wfaas.api.listing import fields_of as fields_arg
from wfaas.api.listing import hidden_columns, list_answer, list_args

SCOPES = ("private", "public")
NAMESPACE_Q = "namespace"

__all__ = ["SCOPES", "checksum", "fields_arg", "hidden_columns", "list_answer", "list_args",
           "max_document_bytes", "namespace_arg", "scope_arg"]


def scope_arg(req: ApiRequest, default: str = "private") -> str:
    """``?scope=`` validated (private/public)."""
    scope = req.arg("scope") or default
    if scope not in SCOPES:
        raise BadRequest(f"Invalid scope '{scope}'; use 'private' or 'public'")
    return scope


def namespace_arg(req: ApiRequest) -> str:
    """``?namespace=`` ('' = the default namespace)."""
    return req.arg("namespace") or ""


def checksum(text: str) -> str:
    """The md5 checksum Mistral shows for definitions."""
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def max_document_bytes(req: ApiRequest) -> int:
    """``[DEFAULT] max_document_size_kb`` in bytes."""
    return int(req.conf.max_document_size_kb) * 1024
