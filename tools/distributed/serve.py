"""``wfaas-server`` for the fault tool: also loads the global ``wfaas.config.CONF``.

``wfaas-server`` parses its configuration into a fresh ``ConfigOpts``, while
``std.http`` reads its egress settings (``[action_std_http] allowed_hosts``)
from the global ``CONF``, which the server never loads; so a deployment's
``allowed_hosts`` has no effect in the executor processes. The fault tool
needs ``std.http`` to reach its counter on 127.0.0.1, hence this launcher:

    python tools/distributed/serve.py --config-file f.conf --server executor
"""

from __future__ import annotations

import sys


def main() -> int:
    """Load the global CONF from the ``--config-file`` arguments, then run the server."""
    from wfaas.cmd import server
    from wfaas.config import CONF, register_opts

    argv = sys.argv[1:]
    files: list[str] = []
    for i, arg in enumerate(argv[:-1]):
        if arg == "--config-file":
            files += ["--config-file", argv[i + 1]]
    register_opts(CONF)
    CONF(files, project="wfaas")
    return server.main(argv)


if __name__ == "__main__":
    sys.exit(main())
