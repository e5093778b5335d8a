"""The shell: ``Runtime`` (wfaas.services.runtime) runs engine, executor and
scheduler around the pure engine and offers the operations the API calls."""
