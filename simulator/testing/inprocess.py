"""An in-process simulator: the server on its own event loop in a daemon thread.

:class:`InProcessSimulator` is what the ``aicc_sim`` fixture
(:mod:`simulator.testing.pytest_plugin`) yields, and usable without pytest as a context
manager. It serves sync tests (urllib, requests) and async tests (whatever loop they run on)
alike, on 127.0.0.1 and a free port by default. Start-up is a few milliseconds (the schemas
are compiled once per process).

It is an :class:`~simulator.testing.client.AdminClient` of the running server plus
in-process helpers: its ``wait_for_delivery`` / ``wait_for_request`` (for sync tests) wait on
the journal itself (woken by each append, never polling); their async twins
``await_delivery`` / ``await_request`` leave the test's own loop free meanwhile. All four take
the keywords of :class:`~simulator.testing.matching.DeliveryFilters` /
:class:`~simulator.testing.matching.RequestFilters` and share one implementation
(:meth:`InProcessSimulator._wait`).

:func:`build_config` makes its configuration from the embedded default and (partial)
config documents, written by the one override writer of :mod:`simulator.config.sources`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping
from concurrent.futures import Future
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final, TypeVar

from simulator.core.errors import SimulatorError, WaitTimeout
from simulator.testing.handle import Handle
from simulator.testing.matching import (
    SHOWN_ON_TIMEOUT,
    DeliveryMatch,
    RequestMatch,
    timeout_message,
)

if TYPE_CHECKING:
    from aiohttp import web

    from simulator.config import Config
    from simulator.core.journal import Journal

__all__ = ["CONFIG_SOURCE", "THREAD_TIMEOUT", "InProcessSimulator", "build_config"]

#: The ``source`` named in configuration errors raised by the fixture.
CONFIG_SOURCE: Final = "aicc_sim config"
#: Seconds allowed for the server thread to start or stop.
THREAD_TIMEOUT: Final = 30.0

T = TypeVar("T")


# --------------------------------------------------------------------------- configuration


def build_config(*layers: Mapping[str, Any]) -> Config:
    """The configuration of an in-process simulator: the embedded default listening on
    127.0.0.1 and a free port, with each layer written over it in turn.

    A layer is a (partial) config document, written by the same writer as ``AICC_SIM_*``
    variables and ``serve`` flags (:func:`simulator.config.sources.apply_overrides`), so a
    setting means the same from every source: mappings merge key by key; a list replaces
    the default's list, each of its mapping items merged over the default's item at the
    same index (``{"channels": [{"idle_timeout": 1}]}`` changes only the first channel's
    idle timeout); other values replace; text for a non-text setting is read as YAML, as
    an env value is. A key with dots is a key path, as a flag's: ``{"channels.0.speed": 10}``.
    Raises :class:`~simulator.core.errors.ConfigError` naming ``aicc_sim config`` and the key.
    """
    from simulator.config import (
        EMBEDDED_SOURCE,
        config_schema,
        embedded_default_text,
        mapping_overrides,
        override_config,
    )
    from simulator.config.yamltext import read_config_yaml

    document, _ = read_config_yaml(embedded_default_text(), EMBEDDED_SOURCE)
    document["listen"] = {"host": "127.0.0.1", "port": 0}
    schema = config_schema()
    overrides = [o for layer in layers for o in mapping_overrides(layer, CONFIG_SOURCE, schema)]
    return override_config(document, CONFIG_SOURCE, overrides)


# --------------------------------------------------------------------------- the server


def _entry_json(seq: int, item: Any) -> dict[str, Any]:
    return {"seq": seq, **item.to_json()}


class InProcessSimulator(Handle):
    """A simulator running in this process, on its own event loop in a daemon thread.

    Use it as a context manager (or :meth:`start` / :meth:`stop`). Every admin call of
    :class:`~simulator.testing.client.AdminClient` works on it (over HTTP, thread-safe), plus the
    in-process helpers below. Its inherited ``wait_for_delivery`` / ``wait_for_request``
    wait on the journal itself instead of polling: for sync tests; async tests use
    :meth:`await_delivery` / :meth:`await_request`.
    """

    def __init__(self, config: Config) -> None:
        """Not started yet: see :meth:`start`."""
        super().__init__("http://127.0.0.1:0", config.admin.token)
        self._config = config
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._app: web.Application | None = None
        self._error: BaseException | None = None

    @classmethod
    def from_overrides(cls, *layers: Mapping[str, Any]) -> InProcessSimulator:
        """An unstarted simulator configured by :func:`build_config` ``(*layers)``."""
        return cls(build_config(*layers))

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> InProcessSimulator:
        """Start the server thread and return once the port accepts connections."""
        if self._thread is not None:
            raise SimulatorError("this simulator was already started")
        self._thread = threading.Thread(target=self._run, name="aicc-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(THREAD_TIMEOUT):
            raise SimulatorError(f"the simulator did not start within {THREAD_TIMEOUT:g} s")
        if self._error is not None:
            error, self._error = self._error, None
            self._thread.join(THREAD_TIMEOUT)
            if isinstance(error, SimulatorError):
                raise error
            raise SimulatorError(f"the simulator failed to start: {error!r}") from error
        return self

    def stop(self) -> None:
        """Stop the server (in-flight pushes are cancelled) and join its thread. Idempotent."""
        thread, loop, stop = self._thread, self._loop, self._stop_event
        if thread is None or not thread.is_alive():
            return
        if loop is not None and stop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(stop.set)
        thread.join(THREAD_TIMEOUT)
        if thread.is_alive():
            raise SimulatorError(f"the simulator did not stop within {THREAD_TIMEOUT:g} s")
        if self._error is not None:
            error, self._error = self._error, None
            raise SimulatorError(f"the simulator failed while stopping: {error!r}") from error

    def _run(self) -> None:
        try:
            asyncio.run(self._serve())
        except BaseException as exc:  # handed to start()/stop() in the test's thread
            self._error = exc
        finally:
            self._ready.set()

    async def _serve(self) -> None:
        from simulator.server import start_server

        self._loop = asyncio.get_running_loop()
        self._stop_event = asyncio.Event()
        running = await start_server(self._config)
        try:
            self._base_url = running.url
            self._app = running.app
            self._ready.set()
            await self._stop_event.wait()
        finally:
            self._app = None  # from now on, calls say "not running" instead of hanging
            await running.stop()

    # -- running things in the server's loop -------------------------------------------------
    def _submit(self, make: Callable[[], Coroutine[Any, Any, T]]) -> Future[T]:
        loop = self._loop
        if loop is None or self._app is None or loop.is_closed():
            raise SimulatorError("the simulator is not running")
        return asyncio.run_coroutine_threadsafe(make(), loop)

    def _call_in_loop(self, make: Callable[[], Coroutine[Any, Any, T]], timeout: float) -> T:
        return self._submit(make).result(timeout)

    async def _await_in_loop(self, make: Callable[[], Coroutine[Any, Any, T]]) -> T:
        return await asyncio.wrap_future(self._submit(make))

    # -- what a test needs to know ------------------------------------------------------------
    @property
    def config(self) -> Config:
        """The configuration the server runs with (after :meth:`set_callback`, the new one)."""
        if self._app is not None:
            from simulator.server.live_config import CONFIG

            return self._app[CONFIG].current
        return self._config

    @property
    def app(self) -> web.Application:
        """The running aiohttp application (for white-box tests; touch it only from the
        server's loop)."""
        if self._app is None:
            raise SimulatorError("the simulator is not running")
        return self._app

    def set_callback(self, url: str, channel_id: str | None = None) -> None:
        """Point a channel's pushes (the first channel's by default) at ``url`` from now on:
        an integration's receiver whose port is only known once the test has started it.
        ``"echo"`` points back at the built-in echo receiver. The URL is validated like a
        config value (``callback_allowlist`` included)."""
        self._call_in_loop(lambda: self._set_callback(url, channel_id), THREAD_TIMEOUT)

    async def _set_callback(self, url: str, channel_id: str | None) -> None:
        from simulator.config import override_config
        from simulator.config.sources import Override
        from simulator.server.live_config import CONFIG

        live = self.app[CONFIG]
        current = live.current
        document = current.to_document()
        setting = Override(
            f"{CONFIG_SOURCE} (set_callback)",
            ("channels", self._channel_index(channel_id), "callback_url"),
            url,
        )
        updated = override_config(document, CONFIG_SOURCE, [setting])
        # Every capability reads its channels from the one live configuration on every call,
        # so swapping it takes effect for the next push; ``/__admin/config`` shows it too.
        live.current = replace(updated, source=current.source)

    # -- waiting on the journals (woken by appends, never polling) ----------------------------
    async def _wait(
        self,
        match: DeliveryMatch | RequestMatch,
        since: int | None,
        timeout: float,  # noqa: ASYNC109 - the journal's own wait_for takes one
    ) -> dict[str, Any]:
        """The one implementation of every in-process wait, sync or async: the first entry
        of ``match``'s journal (already there with ``seq > since``, or to come) that matches;
        runs in the server's loop."""
        from simulator.server.deliveries import DELIVERIES
        from simulator.server.journal_entries import REQUESTS

        app = self.app
        journal: Journal[Any] = app[DELIVERIES] if match.kind == "delivery" else app[REQUESTS]
        for entry in journal.list(since=since):
            data = _entry_json(entry.seq, entry.item)
            if match(data):
                return data

        def predicate(item: Any) -> bool:
            # append() wakes waiters right after numbering the entry: last_seq is its seq
            return match(_entry_json(journal.last_seq, item))

        try:
            found = await journal.wait_for(predicate, timeout, since=journal.last_seq)
        except TimeoutError:
            recent = [
                _entry_json(e.seq, e.item)
                for e in journal.list(limit=SHOWN_ON_TIMEOUT, newest=True)
            ]
            raise WaitTimeout(timeout_message(match.kind, match, timeout, recent)) from None
        return _entry_json(found.seq, found.item)

    def _blocking_wait(
        self, match: DeliveryMatch | RequestMatch, since: int | None, timeout: float
    ) -> dict[str, Any]:
        """What ``wait_for_delivery`` / ``wait_for_request`` (inherited) do here: block this
        thread on :meth:`_wait` in the server's loop, instead of polling over HTTP."""
        return self._call_in_loop(
            lambda: self._wait(match, since, timeout), timeout + THREAD_TIMEOUT
        )

    async def _await_match(
        self,
        match: DeliveryMatch | RequestMatch,
        since: int | None,
        timeout: float,  # noqa: ASYNC109 - the journal's own wait takes one
    ) -> dict[str, Any]:
        """The async waits: :meth:`_wait` runs in the simulator's loop while the test's loop
        keeps serving (e.g. the integration's push receiver)."""
        return await self._await_in_loop(lambda: self._wait(match, since, timeout))
