"""The backend's settings, from environment variables (an injectable mapping)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["PushMode", "Settings", "SettingsError"]

PushMode = Literal["oauth", "signature"]


class SettingsError(ValueError):
    """A missing or malformed setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Where AICC is and who we are to it.

    Environment variables (defaults fit the simulator's embedded default configuration):

    ==========================  ===============================================
    ``WEBCHAT_AICC_URL``        AICC base URL (``http://127.0.0.1:8080``)
    ``WEBCHAT_APP_KEY``         API Fabric app key (``sim-app-key``)
    ``WEBCHAT_APP_SECRET``      API Fabric app secret (``sim-app-secret``)
    ``WEBCHAT_CHANNEL_ID``      the web channel's configuration id
    ``WEBCHAT_PUSH_MODE``       ``oauth`` or ``signature`` (how pushes are checked)
    ``WEBCHAT_PUSH_KEY``        the 43-character message push key (signature mode)
    ``WEBCHAT_LOCALE``          applyToken ``locale`` (``en``)
    ``WEBCHAT_HOST``            address to listen on (``127.0.0.1``)
    ``WEBCHAT_PORT``            port to listen on (``9000``)
    ==========================  ===============================================
    """

    aicc_url: str = "http://127.0.0.1:8080"
    app_key: str = "sim-app-key"
    app_secret: str = field(default="sim-app-secret", repr=False)
    channel_id: str = "202105284494222653"
    push_mode: PushMode = "oauth"
    push_key: str | None = field(default=None, repr=False)
    locale: str = "en"
    host: str = "127.0.0.1"
    port: int = 9000
    token_lifetime: int = 600
    """Seconds asked for in ``X-Token-Expire`` (the vendor's example value)."""

    def __post_init__(self) -> None:
        if self.push_mode not in ("oauth", "signature"):
            raise SettingsError(f"push mode must be oauth or signature, got {self.push_mode!r}")
        if self.push_mode == "signature" and not self.push_key:
            raise SettingsError("signature mode needs WEBCHAT_PUSH_KEY")
        object.__setattr__(self, "aicc_url", self.aicc_url.rstrip("/"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> Settings:
        """Settings from ``WEBCHAT_*`` variables (pass ``os.environ``)."""
        defaults = cls()
        mode = environ.get("WEBCHAT_PUSH_MODE", defaults.push_mode)
        if mode not in ("oauth", "signature"):
            raise SettingsError(f"WEBCHAT_PUSH_MODE must be oauth or signature, got {mode!r}")
        port_text = environ.get("WEBCHAT_PORT", str(defaults.port))
        try:
            port = int(port_text)
        except ValueError:
            raise SettingsError(f"WEBCHAT_PORT must be a number, got {port_text!r}") from None
        return cls(
            aicc_url=environ.get("WEBCHAT_AICC_URL", defaults.aicc_url),
            app_key=environ.get("WEBCHAT_APP_KEY", defaults.app_key),
            app_secret=environ.get("WEBCHAT_APP_SECRET", defaults.app_secret),
            channel_id=environ.get("WEBCHAT_CHANNEL_ID", defaults.channel_id),
            push_mode="signature" if mode == "signature" else "oauth",
            push_key=environ.get("WEBCHAT_PUSH_KEY") or None,
            locale=environ.get("WEBCHAT_LOCALE", defaults.locale),
            host=environ.get("WEBCHAT_HOST", defaults.host),
            port=port,
        )
