"""How pushes leave: attempt records, the per-conversation delivery worker, the replay driver
and the ``check-callback`` conformance suite."""
