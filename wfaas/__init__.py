"""wfaas: workflow as a service, a drop-in successor to OpenStack Mistral."""

__version__ = "0.1.0"
