"""How tests use the simulator: the admin client, the pytest plugin and its helpers."""
