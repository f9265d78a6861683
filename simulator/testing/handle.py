"""What both ``aicc_sim`` handles (in-process and sidecar) share: the views of their
configuration, the context manager, the channel a ``set_callback`` names, the refusal of a
sync wait inside a running event loop, and the async waits' signatures. Each handle says only
how it starts, stops, reads its configuration and waits (:meth:`Handle._blocking_wait`,
:meth:`Handle._await_match`)."""

from __future__ import annotations

import asyncio
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, Unpack

from simulator.core.errors import SimulatorError
from simulator.testing.client import AdminClient
from simulator.testing.matching import (
    DEFAULT_TIMEOUT,
    DeliveryFilters,
    DeliveryMatch,
    Predicate,
    RequestFilters,
    RequestMatch,
)

if TYPE_CHECKING:
    from simulator.config import ChannelConfig, Config, Credential

__all__ = ["Handle"]


def _running_loop() -> asyncio.AbstractEventLoop | None:
    """The event loop running in this thread, if any."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


class Handle(AdminClient):
    """The base of :class:`~simulator.testing.inprocess.InProcessSimulator` and
    :class:`~simulator.testing.remote.RemoteSimulator`: every admin call, and what the two
    do alike. Use a handle as a context manager (or :meth:`start` / :meth:`stop`)."""

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Self:
        """Make the simulator ready for a test."""
        raise NotImplementedError

    def stop(self) -> None:
        """Let go of the simulator after a test."""
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what a test needs to know ------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The configuration the simulator runs with."""
        raise NotImplementedError

    @property
    def credentials(self) -> Credential:
        """The first AK/SK pair tokenByAkSk accepts (``.app_key``, ``.app_secret``)."""
        return self.config.credentials[0]

    @property
    def channel(self) -> ChannelConfig:
        """The first channel's configuration."""
        return self.config.channels[0]

    @property
    def channel_id(self) -> str:
        """The first channel's configuration id (``DownLinkMsg.from``)."""
        return self.channel.id

    def _channel_index(self, channel_id: str | None) -> int:
        """The index of the channel ``set_callback`` names (None: the first)."""
        ids = [channel.id for channel in self.config.channels]
        wanted = channel_id if channel_id is not None else ids[0]
        if wanted not in ids:
            raise SimulatorError(f"no channel {wanted!r} is configured; known: {', '.join(ids)}")
        return ids.index(wanted)

    # -- waits -------------------------------------------------------------------------------
    def _wait_for_match(
        self, match: DeliveryMatch | RequestMatch, since: int | None, timeout: float
    ) -> dict[str, Any]:
        """What the inherited ``wait_for_delivery`` / ``wait_for_request`` do: refuse to block
        a running event loop (it would starve a receiver served on that loop until the
        timeout), else :meth:`_blocking_wait`."""
        if _running_loop() is not None:
            raise SimulatorError(
                f"wait_for_{match.kind}() would block the running event loop (and any receiver"
                f" served on it); use 'await aicc_sim.await_{match.kind}(...)' in async code"
            )
        return self._blocking_wait(match, since, timeout)

    def _blocking_wait(
        self, match: DeliveryMatch | RequestMatch, since: int | None, timeout: float
    ) -> dict[str, Any]:
        """Block this thread until ``match`` meets an entry (default: poll the admin API)."""
        return super()._wait_for_match(match, since, timeout)

    async def _await_match(
        self,
        match: DeliveryMatch | RequestMatch,
        since: int | None,
        timeout: float,  # noqa: ASYNC109 - the waits' own timeout, handed on
    ) -> dict[str, Any]:
        """The async wait; by default the blocking one in a worker thread, so that the
        test's loop keeps serving (e.g. the integration's push receiver)."""
        return await asyncio.to_thread(self._blocking_wait, match, since, timeout)

    async def await_delivery(
        self,
        predicate: Predicate | None = None,
        *,
        since: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - mirrors the sync twin
        **filters: Unpack[DeliveryFilters],
    ) -> dict[str, Any]:
        """:meth:`wait_for_delivery` for async tests: the test's loop keeps serving (e.g.
        the integration's push receiver) while it waits."""
        return await self._await_match(DeliveryMatch(predicate, **filters), since, timeout)

    async def await_request(
        self,
        predicate: Predicate | None = None,
        *,
        since: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - mirrors the sync twin
        **filters: Unpack[RequestFilters],
    ) -> dict[str, Any]:
        """:meth:`wait_for_request` for async tests."""
        return await self._await_match(RequestMatch(predicate, **filters), since, timeout)
