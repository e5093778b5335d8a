"""wfaas.services."""
