"""OpenStack actions generated from openstacksdk's service proxies.

- :mod:`.generator` -- enumerates the proxy classes into :class:`MethodSpec` (cached).
- :mod:`.provider` -- :class:`OpenStackProvider` (``find``/``find_all``), descriptors,
  and the aliases/renames/hide data file ``mapping.yaml``.
- :mod:`.action` -- :class:`OpenStackAction`: one call, its result as JSON, clear errors.
- :mod:`.auth` -- keystoneauth1 sessions: as the caller, through a trust, or from
  ``[openstack_actions]`` (:class:`OpenStackSettings`).

Nothing here imports openstacksdk until a provider is used.
"""
