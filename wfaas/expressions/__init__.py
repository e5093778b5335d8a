"""wfaas.expressions."""
