"""wfaas.scheduler."""
