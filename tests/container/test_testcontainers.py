"""``AiccSimContainer`` (simulator.testing.container) against the real engine: it starts
the image, waits on ``/__admin/health``, and hands out the URL and an admin client."""

from __future__ import annotations

import pytest

from simulator.core.errors import AdminApiError

from .docker_engine import Engine
from .vendor import Vendor


def test_aicc_sim_container_starts_waits_and_serves(engine: Engine, sim_image: str) -> None:
    from simulator.testing.container import AiccSimContainer

    with AiccSimContainer(
        sim_image, admin_token="tc-token", env={"AICC_SIM_CHANNELS__0__SPEED": "20"}
    ) as sim:
        url = sim.get_url()
        admin = sim.admin_client()
        # the wait strategy returned only once health answered: no wait of ours here
        assert admin.health()["status"] == "ok"
        assert admin.running_config()["channels"][0]["speed"] == 20
        with pytest.raises(AdminApiError) as refused:
            type(admin)(url).runs()  # the token it was given is in force
        assert refused.value.status == 401
        channel = admin.running_config()["channels"][0]["id"]
        Vendor(url, "sim-app-key", "sim-app-secret", channel).connect("tc-1")
        push = admin.wait_for_delivery(user_id="tc-1", source_type="AGENT", timeout=10)
        assert push["verdict"] == "accepted"
        container_id = sim.get_wrapped_container().id
    # the with block removed it
    assert engine("ps", "--all", "--quiet", "--filter", f"id={container_id}").strip() == ""
