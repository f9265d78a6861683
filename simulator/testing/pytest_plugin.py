"""The pytest plugin: an in-process simulator per test, as the ``aicc_sim`` fixture.

Registered through the ``pytest11`` entry point, so installing ``aicc-simulator`` is enough::

    def test_agent_hangs_up(aicc_sim):
        integration = MyBackend(aicc_url=aicc_sim.base_url, ...)
        ...
        aicc_sim.start_run("agent-disconnect", user_id="customer-1")
        aicc_sim.wait_for_delivery(user_id="customer-1", control_type="DISCONNECT")

The simulator runs on its own event loop in a background thread, on 127.0.0.1 and a free
port, so it serves sync tests (urllib, requests) and async tests (whatever loop they run on)
alike. Each test gets a fresh simulator (start-up is a few milliseconds: the schemas are
compiled once per process), so nothing leaks between tests, configuration included.

Configuration: the embedded default, then the ``aicc_sim_config`` fixture (override it),
then ``@pytest.mark.aicc_sim_config({...})`` markers (module < class < function), each
merged over the previous (see :func:`build_config`). ``listen`` defaults to 127.0.0.1:0.

The handle is an :class:`~simulator.testing.inprocess.InProcessSimulator` (an
:class:`~simulator.testing.client.AdminClient` of the running server plus in-process waits);
this module is only the pytest glue: the markers, the two fixtures, the options, and the
contract check that fails a passing test whose code under test broke the contract
(:mod:`simulator.testing.contract_check`; opt out with ``aicc_sim.expect_violations()`` or
``@pytest.mark.aicc_sim_expect_violations``).

With ``--aicc-sim-url URL`` (or ``AICC_SIM_URL``) the fixture runs the same tests against a
simulator that already runs there (a sidecar container) instead, reset and configured per
test over its admin API: a :class:`~simulator.testing.remote.RemoteSimulator`, with the same
API (:data:`SimulatorHandle`; annotate tests with it).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from typing import Any, Final

import pytest

from simulator.testing.inprocess import CONFIG_SOURCE, InProcessSimulator, build_config
from simulator.testing.remote import TOKEN_VAR, URL_VAR, RemoteSimulator

__all__ = [
    "CONFIG_SOURCE",
    "EXPECT_MARKER",
    "MARKER",
    "TOKEN_OPTION",
    "URL_OPTION",
    "InProcessSimulator",
    "RemoteSimulator",
    "SimulatorHandle",
    "aicc_sim",
    "aicc_sim_config",
    "build_config",
]

#: The marker that overrides configuration for a test, a class or a module.
MARKER: Final = "aicc_sim_config"
#: The marker that turns the fixture's contract check off.
EXPECT_MARKER: Final = "aicc_sim_expect_violations"
#: The command-line options of the sidecar mode (the variables: ``URL_VAR``, ``TOKEN_VAR``).
URL_OPTION: Final = "--aicc-sim-url"
TOKEN_OPTION: Final = "--aicc-sim-admin-token"

#: What the ``aicc_sim`` fixture yields: the same API in both modes (annotate tests with it).
SimulatorHandle = InProcessSimulator | RemoteSimulator


# --------------------------------------------------------------------------- pytest hooks


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--aicc-sim-url`` / ``--aicc-sim-admin-token``: run ``aicc_sim`` against a sidecar."""
    group = parser.getgroup("aicc_sim", "AICC Simulator")
    group.addoption(
        URL_OPTION,
        metavar="URL",
        help=f"run the aicc_sim fixture against the simulator at URL (a sidecar) instead of "
        f"in-process; default: ${URL_VAR}",
    )
    group.addoption(
        TOKEN_OPTION,
        metavar="TOKEN",
        help=f"that simulator's admin token; default: ${TOKEN_VAR}",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker (the suite may run with ``--strict-markers``)."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(overrides=None, **settings): configuration merged over the aicc_sim "
        "fixture's default for this test, class or module (see simulator.testing.pytest_plugin)",
    )
    config.addinivalue_line(
        "markers",
        f"{EXPECT_MARKER}: this test breaks the AICC contract on purpose; the aicc_sim "
        "fixture does not fail it",
    )


def _marker_layers(node: pytest.Item) -> list[Mapping[str, Any]]:
    layers: list[Mapping[str, Any]] = []
    # iter_markers yields the closest first; the closest must be merged last
    for marker in reversed(list(node.iter_markers(MARKER))):
        if len(marker.args) > 1:
            raise pytest.UsageError(f"@pytest.mark.{MARKER} takes one mapping, got {marker.args}")
        if marker.args:
            layers.append(marker.args[0])
        if marker.kwargs:
            layers.append(dict(marker.kwargs))
    return layers


@pytest.fixture
def aicc_sim_config() -> Mapping[str, Any]:
    """Configuration merged over the embedded default for ``aicc_sim`` (override this
    fixture in a conftest or module; ``@pytest.mark.aicc_sim_config`` is merged over it)."""
    return {}


@pytest.fixture
def aicc_sim(
    request: pytest.FixtureRequest, aicc_sim_config: Mapping[str, Any]
) -> Iterator[SimulatorHandle]:
    """A fresh simulator for this test, running in-process on 127.0.0.1 and a free port; or,
    with ``--aicc-sim-url`` / ``AICC_SIM_URL``, the sidecar there, reset and configured for
    this test (:mod:`simulator.testing.remote`)."""
    node = request.node
    layers = [aicc_sim_config, *(_marker_layers(node) if isinstance(node, pytest.Item) else [])]
    url = request.config.getoption(URL_OPTION) or os.environ.get(URL_VAR)
    if url:
        token = request.config.getoption(TOKEN_OPTION) or os.environ.get(TOKEN_VAR) or None
        with RemoteSimulator(url, token, layers) as remote:
            yield remote
        return
    with InProcessSimulator(build_config(*layers)) as simulator:
        yield simulator


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """The ``aicc_sim`` fixture's contract check: once a test that uses it has passed, it
    fails if the code under test broke the contract (see :func:`_check_clean`). It runs
    right after the test body, before any fixture is torn down, so that a receiver the test
    served is still up: pushes refused because the test's own fixtures were stopping are not
    the code's fault."""
    result = yield  # a test that failed already is not checked (its failure says enough)
    simulator = getattr(item, "funcargs", {}).get("aicc_sim")
    if (
        # in-process only: against a sidecar, the reset between tests makes a deployed
        # integration's cached tokens unknown once (a 401 it must recover from), so there the
        # check is the test's own call, aicc_sim.assert_clean()
        isinstance(simulator, InProcessSimulator)
        and not simulator.expecting_violations
        and not any(item.iter_markers(EXPECT_MARKER))
    ):
        _check_clean(simulator)
    return result


def _check_clean(simulator: SimulatorHandle) -> None:
    """Fail the test if the code under test sent a request the contract refused, or a push
    was refused by the receiver when no fault asked for it (the journal tells)."""
    try:
        simulator.assert_clean()
    except AssertionError as exc:
        pytest.fail(
            f"aicc_sim: the code under test broke the AICC contract\n{exc}\n(on purpose? "
            f"call aicc_sim.expect_violations() or mark the test "
            f"@pytest.mark.{EXPECT_MARKER})",
            pytrace=False,
        )
