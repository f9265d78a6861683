"""The one exception hierarchy of the simulator.

Every error the simulator raises on purpose derives from :class:`SimulatorError`.
Middlewares and the CLI turn these into vendor-shaped HTTP answers or ``file:line`` messages.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AdminApiError",
    "AuthError",
    "ConfigError",
    "DeliveryError",
    "FileError",
    "IdentityMismatch",
    "NotFound",
    "ScenarioError",
    "SignatureError",
    "SimulatorError",
    "UnknownSchemaError",
    "ValidationFailed",
    "Violation",
    "WaitTimeout",
]


@dataclass(frozen=True, slots=True)
class Violation:
    """One schema violation: where (RFC 6901 JSON pointer, "" for the root) and what."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


class SimulatorError(Exception):
    """Root of every error the simulator raises on purpose."""


class UnknownSchemaError(SimulatorError):
    """A schema name that is not in the store."""

    def __init__(self, name: str, known: tuple[str, ...]) -> None:
        self.name = name
        self.known = known
        super().__init__(f"unknown schema {name!r}; known schemas: {', '.join(known)}")


class ValidationFailed(SimulatorError):
    """An instance does not conform to its schema; carries every violation."""

    def __init__(self, schema: str, violations: list[Violation]) -> None:
        self.schema = schema
        self.violations = violations
        listed = "; ".join(str(v) for v in violations)
        super().__init__(f"{schema}: {listed}")


class IdentityMismatch(ValidationFailed):
    """A call that names another customer (userId, channel) than its ccmessaging-token's:
    a 400 like any violation, or the vendor's token-error code where the endpoint's page
    documents one (queryQueueInfo ``3``, doLeaveMessage ``3``)."""


class FileError(SimulatorError):
    """A file (config, scenario, payload) that cannot be used, with its position."""

    def __init__(self, path: str, line: int | None, reason: str, column: int | None = None) -> None:
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        where = path
        if line is not None:
            where += f":{line}"
            if column is not None:
                where += f":{column}"
        super().__init__(f"{where}: {reason}")


class ScenarioError(SimulatorError):
    """A scenario that cannot be run as asked: an unknown name, bad run variables or speed."""


class ConfigError(FileError):
    """A configuration file, env var or flag that is refused."""


class AuthError(SimulatorError):
    """A request refused for its credentials; ``status`` is the HTTP status to answer."""

    def __init__(self, status: int, reason: str) -> None:
        self.status = status
        self.reason = reason
        super().__init__(reason)


class NotFound(SimulatorError):
    """A lookup that found nothing: an unknown scenario, run, session, channel or file
    (answered 404)."""


class DeliveryError(SimulatorError):
    """A push that could not be delivered after every attempt."""


class SignatureError(SimulatorError):
    """An auth-v2 header that cannot be made or does not verify; ``code`` says which check failed.

    Codes: ``missing``, ``malformed``, ``scheme``, ``key``, ``header``, ``timestamp``,
    ``stale``, ``signature``.
    """

    def __init__(self, code: str, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"auth-v2 {code}: {reason}")


class AdminApiError(SimulatorError):
    """A ``/__admin`` call that failed: ``status`` is the HTTP status (``None`` when no answer
    came: refused, unreachable, timed out) and ``body`` the server's JSON error, if any."""

    def __init__(
        self, method: str, url: str, status: int | None, reason: str, body: object = None
    ) -> None:
        self.method = method
        self.url = url
        self.status = status
        self.reason = reason
        self.body = body
        where = f"{method} {url}"
        super().__init__(
            f"{where}: HTTP {status}: {reason}" if status is not None else f"{where}: {reason}"
        )


class WaitTimeout(SimulatorError, TimeoutError):
    """Nothing matching what a test waited for (a delivery, a request) came in time."""
