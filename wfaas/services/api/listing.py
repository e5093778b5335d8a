"""The list types the API services take and return (re-exported from ``wfaas.db.listing``
so the API layer does not import ``wfaas.db``)."""

from wfaas.db.listing import ListArgs, ListQuery, StoredJson, split_list

__all__ = ["ListArgs", "ListQuery", "StoredJson", "split_list"]
