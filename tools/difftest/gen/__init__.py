"""Generated case families (template x parameter table), written to tests/differential/cases/.

``python -m tools.difftest.gen`` rewrites ``cases/gen_*.yaml``; hand-written cases live
next to them.
"""
