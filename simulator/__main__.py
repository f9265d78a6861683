"""``python -m simulator`` is the same as ``aicc-sim``."""

from simulator.cli import run

run()
