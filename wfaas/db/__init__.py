"""wfaas.db."""
