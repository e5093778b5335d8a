"""Persistent timers: see :mod:`wfaas.scheduler.delayed`."""

from wfaas.scheduler.delayed import DelayedCallScheduler

__all__ = ["DelayedCallScheduler"]
