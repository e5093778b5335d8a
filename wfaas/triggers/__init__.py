"""Cron triggers and event triggers (Mistral's ``/v2/cron_triggers`` and ``/v2/event_triggers``).

- :mod:`wfaas.triggers.cron`: pattern/time validation, ``create_cron_trigger`` and the
  firing plan of a due trigger (pure functions + compare-and-set helpers).
- :mod:`wfaas.triggers.events`: ``create_event_trigger``/``update_event_trigger``,
  matching a notification to triggers, decoding oslo.messaging notifications.
- :mod:`wfaas.triggers.listener`: the kombu consumer of notifications on RabbitMQ.
- :mod:`wfaas.triggers.service`: ``TriggerService`` (cron loop + event handling).
- :mod:`wfaas.triggers.trusts`: Keystone trusts so a trigger runs as its owner.
"""

from wfaas.triggers.cron import create_cron_trigger, next_execution_time, validate_pattern
from wfaas.triggers.events import Event, create_event_trigger, update_event_trigger
from wfaas.triggers.service import TriggerService

__all__ = ["Event", "TriggerService", "create_cron_trigger", "create_event_trigger",
           "next_execution_time", "update_event_trigger", "validate_pattern"]
