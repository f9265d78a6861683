"""Exit statuses shared by every ``aicc-sim`` command.

``0`` success; ``1`` a check failed (an invalid payload, a scenario file that does not
lint, a refused push, a failing case, an unreachable receiver); ``2`` the command cannot run
(bad options, an unreadable file, a port in use, an unknown scenario or schema, an
unwritable ``--junit`` path); ``141`` (128 + SIGPIPE, as ``yes | head`` gives) when the
reader of stdout went away.
"""

from typing import Final

__all__ = ["CANNOT_RUN", "CHECK_FAILED", "CLOSED_PIPE", "OK"]

#: Everything passed.
OK: Final = 0
#: A check failed: the only reason for status 1.
CHECK_FAILED: Final = 1
#: The command cannot run; also argparse's own status for bad options.
CANNOT_RUN: Final = 2
#: stdout was closed by its reader (``aicc-sim scenarios list | head -1``).
CLOSED_PIPE: Final = 141
