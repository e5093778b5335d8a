"""gunicorn entry point for Placement (config: ``$OS_PLACEMENT_CONFIG_DIR/placement.conf``)."""
import sys

sys.argv = sys.argv[:1]

from placement.wsgi.api import application  # noqa: E402,F401
