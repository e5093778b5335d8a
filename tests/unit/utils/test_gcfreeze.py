"""wfaas.utils.gcfreeze: after the start's freeze, a full collection no longer traverses
the objects the server was built from."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import gc
    from wfaas.actions.registry import default_providers
    from wfaas.services.runtime import Runtime  # noqa: F401  (what a server imports)
    from wfaas.utils import gcfreeze

    providers = default_providers(openstack=False)
    before = len(gc.get_objects())
    frozen = gcfreeze.freeze_startup()
    after = len(gc.get_objects())
    garbage = [[i] for i in range(1000)]  # objects made later are still collected
    print(before, frozen, after, len(gc.get_objects()) - after)
""")


def test_the_objects_of_the_start_leave_the_collections() -> None:
    out = subprocess.run([sys.executable, "-c", SCRIPT], check=True, capture_output=True,
                         text=True)
    before, frozen, after, later = (int(x) for x in out.stdout.split())
    assert before > 20000, out.stdout  # a built server tracks tens of thousands of objects
    assert frozen > before * 0.9, out.stdout  # all but the garbage collected first
    assert after < 100, out.stdout  # a full collection now traverses almost nothing of them
    assert later >= 1001, out.stdout  # new objects (the list and its 1000 lists) are tracked
