"""What both ``aicc_sim`` handles (in-process and sidecar) derive from their configuration."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.config import ChannelConfig, Config, Credential

__all__ = ["ConfigViews"]


class ConfigViews:
    """The first credential pair and channel of :attr:`config`, shared by
    :class:`~simulator.testing.inprocess.InProcessSimulator` and
    :class:`~simulator.testing.remote.RemoteSimulator`."""

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
