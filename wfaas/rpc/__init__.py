"""wfaas.rpc."""
