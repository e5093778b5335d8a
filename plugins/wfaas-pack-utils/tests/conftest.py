"""Make the pack importable from a source checkout (tests run before or after install)."""

import sys
from pathlib import Path

PACK_DIR = str(Path(__file__).resolve().parents[1])
if PACK_DIR not in sys.path:
    sys.path.insert(0, PACK_DIR)
