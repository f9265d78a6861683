"""``AiccSimContainer``: the simulator's image as a `testcontainers`_ container.

Needs the optional extra: ``pip install 'aicc-simulator[testcontainers]'``. ::

    from simulator.testing.container import AiccSimContainer

    with AiccSimContainer("aicc-simulator:local", admin_token="t") as sim:
        admin = sim.admin_client()                 # an AdminClient of the running container
        backend = MyBackend(aicc_url=sim.get_url())
        ...
        admin.wait_for_delivery(user_id="customer-1", control_type="DISCONNECT")

It publishes port 8080 on a free host port and waits until ``GET /__admin/health``
answers 200 (health never needs the admin token). Settings are ``AICC_SIM_*`` variables
(``env=`` or ``with_env``), as for any container of the image. Where the Ryuk reaper's image
cannot be pulled (no registry), set ``TESTCONTAINERS_RYUK_DISABLED=true``: the ``with``
block still removes the container.

.. _testcontainers: https://testcontainers-python.readthedocs.io/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from testcontainers.core.container import DockerContainer
from testcontainers.core.wait_strategies import HttpWaitStrategy

from simulator.testing.client import AdminClient

__all__ = ["DEFAULT_IMAGE", "HEALTH_PATH", "PORT", "AiccSimContainer"]

#: The tag the repository's Dockerfile is built as (docker-compose.example.yml).
DEFAULT_IMAGE: Final = "aicc-simulator:local"
#: The port the image serves on (``AICC_SIM_PORT``).
PORT: Final = 8080
#: What the wait strategy polls.
HEALTH_PATH: Final = "/__admin/health"


class AiccSimContainer(DockerContainer):
    """The simulator's image, started with its port published and waited on until healthy."""

    def __init__(
        self,
        image: str = DEFAULT_IMAGE,
        *,
        admin_token: str | None = None,
        env: Mapping[str, str] | None = None,
        startup_timeout: float = 30.0,
        **kwargs: Any,
    ) -> None:
        """``admin_token``: ``AICC_SIM_ADMIN_TOKEN`` (and the admin client's token);
        ``env``: more ``AICC_SIM_*`` settings; other keywords go to ``DockerContainer``."""
        super().__init__(image, **kwargs)
        self.admin_token = admin_token
        self.with_exposed_ports(PORT)
        if admin_token is not None:
            self.with_env("AICC_SIM_ADMIN_TOKEN", admin_token)
        for name, value in (env or {}).items():
            self.with_env(name, value)
        self.waiting_for(
            HttpWaitStrategy(PORT, HEALTH_PATH)
            .with_startup_timeout(int(startup_timeout))
            .with_poll_interval(0.1)
        )

    def get_url(self) -> str:
        """The simulator's base URL from this machine (``http://host:published-port``)."""
        return f"http://{self.get_container_host_ip()}:{self.get_exposed_port(PORT)}"

    def admin_client(self) -> AdminClient:
        """An :class:`~simulator.testing.client.AdminClient` of the running container."""
        return AdminClient(self.get_url(), self.admin_token)
