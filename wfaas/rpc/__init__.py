"""Transports between engine, executors and API: see :mod:`wfaas.rpc.base`."""

from wfaas.rpc.base import Handler, Message, Transport, get_transport

__all__ = ["Handler", "Message", "Transport", "get_transport"]
