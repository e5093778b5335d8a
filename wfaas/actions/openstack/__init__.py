"""wfaas.actions.openstack."""
