"""The example backend deployed beside the simulator, as in docker-compose.example.yml (two
containers on one network, the simulator pushing to ``http://webchat:9000/aicc`` with the
callback allowlist ``[webchat]`` in force): the end-to-end test of that topology.

Run it against the topology (CI does, in tests/container/test_compose_example.py)::

    docker compose -f docker-compose.example.yml up --build --wait
    WEBCHAT_URL=http://127.0.0.1:9000 python -m pytest \\
        examples/webchat_backend/tests/test_deployed.py \\
        --aicc-sim-url http://127.0.0.1:8080 --aicc-sim-admin-token change-me

Skipped (saying so) unless ``WEBCHAT_URL`` names a running backend and the ``aicc_sim``
fixture runs in its sidecar mode. The backend is driven over HTTP as the chat widget would;
the simulator through the fixture (reset and sped up for each test, as in-process).
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import uuid
from typing import Any

import pytest

from simulator.core.errors import AdminApiError
from simulator.testing.pytest_plugin import SimulatorHandle
from simulator.testing.remote import RemoteSimulator

pytestmark = pytest.mark.aicc_sim_config({"channels": [{"speed": 20}]})

CONNECTED_TEXT = "The call is connected to an agent."
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def webchat(aicc_sim: SimulatorHandle) -> str:
    """The deployed backend's URL (``WEBCHAT_URL``), or a skip saying what is missing."""
    url = os.environ.get("WEBCHAT_URL")
    if not url:
        pytest.skip("set WEBCHAT_URL to a deployed backend (docker-compose.example.yml)")
    if not isinstance(aicc_sim, RemoteSimulator):
        pytest.skip("needs the simulator of that deployment: --aicc-sim-url / AICC_SIM_URL")
    return url.rstrip("/")


def _call(method: str, url: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        url,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    try:
        with _OPENER.open(request, timeout=10) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            raise AssertionError(f"{method} {url}: HTTP {exc.code}: {exc.read()!r}") from None


def _customer() -> str:
    # the backend outlives the tests: a fresh customer each time
    return f"c-{uuid.uuid4().hex[:8]}"


def test_a_customer_is_connected_and_greeted(aicc_sim: SimulatorHandle, webchat: str) -> None:
    customer = _customer()
    answer = _call("POST", f"{webchat}/chat/{customer}/connect", {"name": "Ann"})
    assert (answer["resultCode"], answer["resultDesc"]) == ("0", "success")
    greeting = aicc_sim.wait_for_delivery(user_id=customer, source_type="AGENT", timeout=10)
    assert greeting["verdict"] == "accepted"
    # pushed to the backend's service name, on the compose network
    assert greeting["url"] == "http://webchat:9000/aicc"
    conversation = _call("GET", f"{webchat}/chat/{customer}")
    assert conversation["state"] == "connected"
    assert [m["content"] for m in conversation["downlinks"]] == [
        "Queuing...",
        CONNECTED_TEXT,
        "Hello, this is Alice. How can I help you?",
    ]
    calls = [r["path"].rsplit("/", 1)[-1] for r in aicc_sim.requests(status=200)]
    assert calls[-2:] == ["applyToken", "send"]


def test_the_agent_ends_the_conversation(aicc_sim: SimulatorHandle, webchat: str) -> None:
    customer = _customer()
    _call("POST", f"{webchat}/chat/{customer}/connect", {"name": "Ann"})
    aicc_sim.wait_for_delivery(user_id=customer, content=CONNECTED_TEXT, timeout=10)
    run_id = aicc_sim.start_run("agent-disconnect", user_id=customer)
    push = aicc_sim.wait_for_delivery(run_id=run_id, control_type="DISCONNECT", timeout=10)
    assert push["verdict"] == "accepted"
    conversation = _call("GET", f"{webchat}/chat/{customer}")
    assert (conversation["state"], conversation["endedBy"]) == ("ended", "agent")


def test_the_callback_allowlist_is_in_force(aicc_sim: SimulatorHandle, webchat: str) -> None:
    assert aicc_sim.config.callback_allowlist == ("webchat",)
    with pytest.raises(AdminApiError, match="allowlist"):
        aicc_sim.set_callback("http://elsewhere:9000/aicc")
    customer = _customer()
    _call("POST", f"{webchat}/chat/{customer}/connect", {"name": "Ann"})
    aicc_sim.wait_for_delivery(user_id=customer, content=CONNECTED_TEXT, timeout=10)
    with pytest.raises(AdminApiError, match="allowlist"):
        aicc_sim.start_run("agent-disconnect", user_id=customer, callback_url="http://x:1/aicc")
    assert aicc_sim.deliveries(verdict="accepted")  # the allowed pushes went through
