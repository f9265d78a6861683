"""Sub-commands of ``aicc-sim``; each module has ``register(subparsers)``."""
