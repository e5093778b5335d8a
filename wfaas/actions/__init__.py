"""wfaas.actions."""
