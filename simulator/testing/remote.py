"""The ``aicc_sim`` fixture's second mode: a simulator that already runs elsewhere (a
docker-compose sidecar, a container a CI job started), instead of one in this process.

Chosen by ``--aicc-sim-url URL`` or ``AICC_SIM_URL`` (with ``--aicc-sim-admin-token`` /
``AICC_SIM_ADMIN_TOKEN`` when the sidecar has one); the same tests then run unchanged::

    pytest examples/webchat_backend/tests                                   # in-process
    pytest examples/webchat_backend/tests --aicc-sim-url http://127.0.0.1:8080 \\
        --aicc-sim-admin-token change-me                                    # the sidecar

The handle (:class:`RemoteSimulator`) has the in-process handle's API: every
:class:`~simulator.testing.client.AdminClient` call, ``config`` / ``credentials`` /
``channel`` / ``channel_id``, ``set_callback``, and the async waits ``await_delivery`` /
``await_request`` (the client's polling waits in a worker thread, so the test's loop keeps
serving the integration's receiver; :class:`~simulator.testing.handle.Handle` has what the
two handles share). Only ``app`` (white-box access to the aiohttp
application) does not exist across a process boundary.

Between tests: before each, ``POST /__admin/reset`` and ``PUT /__admin/config`` with the
test's configuration layers (the ``aicc_sim_config`` fixture and markers), merged by the
server over the configuration it started with; after each, a reset and
``DELETE /__admin/config``. Tests must therefore not run in parallel against one sidecar.
The secrets of the running configuration (``credentials[].app_secret``, ``push_key``) are
shown by the server only to a caller with its admin token, so ``config`` needs one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from simulator.core.errors import SimulatorError
from simulator.testing.handle import Handle

if TYPE_CHECKING:
    from aiohttp import web

    from simulator.config import Config

__all__ = ["TOKEN_VAR", "URL_VAR", "RemoteSimulator"]

#: The variables naming the sidecar (the same the admin client's ``from_env`` reads).
URL_VAR: Final = "AICC_SIM_URL"
TOKEN_VAR: Final = "AICC_SIM_ADMIN_TOKEN"
#: Seconds a sidecar may take to answer its health check when a test starts.
HEALTHY_TIMEOUT: Final = 30.0


class RemoteSimulator(Handle):
    """A running simulator at ``base_url``, configured per test over the admin API.

    Use it as a context manager (or :meth:`start` / :meth:`stop`)."""

    def __init__(
        self,
        base_url: str,
        admin_token: str | None = None,
        layers: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        """``layers``: the test's configuration, merged by the server over its own."""
        super().__init__(base_url, admin_token)
        self._layers: list[Mapping[str, Any]] = [dict(layer) for layer in layers]
        self._document: dict[str, Any] | None = None

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> RemoteSimulator:
        """Wait for health, forget every earlier test's state, apply this test's config."""
        self.wait_until_healthy(HEALTHY_TIMEOUT)
        self.reset()
        self._apply()
        return self

    def stop(self) -> None:
        """Forget this test's state and restore the sidecar's own configuration."""
        self.reset()
        self._call("DELETE", "/config")
        self._document = None

    def _apply(self) -> None:
        self._document = self._call("PUT", "/config", self._layers)

    # -- what a test needs to know ------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The configuration the sidecar runs with for this test."""
        from simulator.config import parse_config
        from simulator.config.model import MASK

        document = self._document
        if document is None:
            raise SimulatorError("the simulator handle is not started")
        secrets = [c.get("app_secret") for c in document.get("credentials", [])]
        secrets += [c.get("push_key") for c in document.get("channels", [])]
        if MASK in secrets:
            raise SimulatorError(
                f"the simulator at {self.base_url} shows its secrets (app_secret, push_key) "
                "only to a caller with its admin token: start it with AICC_SIM_ADMIN_TOKEN "
                "and pass the same with --aicc-sim-admin-token or AICC_SIM_ADMIN_TOKEN"
            )
        return parse_config(document, f"{self.base_url}/__admin/config")

    @property
    def app(self) -> web.Application:
        """Not available: the application runs in another process."""
        raise SimulatorError(
            f"the simulator runs at {self.base_url}, not in this process: white-box access "
            "to its application needs the in-process fixture (no --aicc-sim-url)"
        )

    def set_callback(self, url: str, channel_id: str | None = None) -> None:
        """Point a channel's pushes (the first channel's by default) at ``url`` from now on.
        The sidecar must be able to reach ``url`` (for a receiver in this process: run the
        sidecar on the host's network, or give the receiver an address the container
        reaches); the URL is validated by the server (``callback_allowlist`` included)."""
        index = self._channel_index(channel_id)
        self._layers.append({f"channels.{index}.callback_url": url})
        try:
            self._apply()
        except Exception:
            self._layers.pop()
            raise
