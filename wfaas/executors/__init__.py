"""wfaas.executors."""
