"""``python -m tools.difftest``."""

import sys

from tools.difftest.main import main

sys.exit(main())
