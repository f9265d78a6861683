"""How tests use the simulator: ``client`` (the admin client, over HTTP), ``matching`` (what a
wait asks for, pure), ``inprocess`` (a simulator in a background thread) and
``pytest_plugin`` (the ``aicc_sim`` fixture and marker, registered as a pytest11 plugin)."""
