"""wfaas.cmd."""
