"""wfaas.api."""
