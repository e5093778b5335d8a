"""gunicorn entry point for Keystone.

Keystone parses ``sys.argv`` with oslo.config when it configures itself; inside
gunicorn that is gunicorn's own command line, which Keystone rejects (the worker
exits 2 and gunicorn respawns it forever). Reset argv before importing.
Configuration comes from ``$OS_KEYSTONE_CONFIG_DIR/keystone.conf``.
"""
import sys

sys.argv = sys.argv[:1]

from keystone.wsgi.api import application  # noqa: E402,F401
