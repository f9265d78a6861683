"""The application factory: every capability built once, complete, and wired here.

Construction order is the dependency order (each object gets what it needs when it is
made; nothing is attached later): the stores, then tokens, poll and idle timers, then
runs and dispatch (which the conversation drives), then the admin-side capabilities."""

from __future__ import annotations

import time

from aiohttp import web
from aiohttp.typedefs import Middleware

from simulator.config import Config
from simulator.core.clock import Clock, RealClock
from simulator.core.journal import Journal
from simulator.core.validation import SchemaStore, default_store
from simulator.delivery.records import AttemptRecord
from simulator.delivery.worker import Deliverer
from simulator.server import admin, admin_table, console, console_log, echo, routes
from simulator.server.admission import ADMISSION, Admission
from simulator.server.call_events import CallBook
from simulator.server.click_to_call import CLICK_TO_CALL, ClickToCall
from simulator.server.conversation import CONVERSATION, Conversation
from simulator.server.deliveries import DELIVERIES, DeliveryEntry
from simulator.server.dispatch import DELIVERER, RUNS, Runs
from simulator.server.faults import FAULTS, fault_store, from_scenario
from simulator.server.files import FILES, Files, FileStore
from simulator.server.front_door import FRONT_DOOR, FrontDoor
from simulator.server.history import HISTORY, History
from simulator.server.http import BODY_TIMEOUT, CLOCK, SETTLE, STORE
from simulator.server.idle import IdleTimers
from simulator.server.inject import INJECT, Inject
from simulator.server.journal_entries import REQUESTS, RequestRecord
from simulator.server.leave_message import LEAVE_MESSAGES, LeaveMessages
from simulator.server.library import LIBRARY, ScenarioLibrary
from simulator.server.live_config import CONFIG, LiveConfig
from simulator.server.metrics import METRICS, Metrics
from simulator.server.phrases import PHRASES, Phrases
from simulator.server.poll import POLL, Poll
from simulator.server.queue import QUEUE_INFO, QueueInfo
from simulator.server.reset import RESET, Reset
from simulator.server.satisfaction import SATISFACTION, Rating, Satisfaction
from simulator.server.sessions import SESSIONS, SessionStore
from simulator.server.token_store import TokenStore
from simulator.server.tokens import TOKENS, Tokens
from simulator.state.changes import Changes

__all__ = ["create_app"]


def create_app(
    config: Config,
    *,
    base_url: str | None = None,
    clock: Clock | None = None,
    store: SchemaStore | None = None,
    front_door: bool = False,
) -> web.Application:
    """A complete application for ``config``; the caller starts it
    (:func:`simulator.server.runner.start_server`, ``AppRunner`` or aiohttp's test client).

    Every request passes the app's front door (``server/front_door.py``: errors as JSON, the
    admin token, the journal): as its first middleware, or, with ``front_door=True``, as
    :data:`~simulator.server.front_door.FRONT_DOOR` for the server to call around the app
    (what ``start_server`` does: no middleware at all, less work per request).

    ``base_url`` is where the simulator is reachable (the built-in echo receiver's pushes
    and downloadFileStream's ``fileUrl`` use it); by default the configured listen address.
    ``clock`` is the one clock of every timing (default: real time); tests pass a
    :class:`~simulator.core.clock.VirtualClock`."""
    clock = clock or RealClock()
    for channel in config.channels:  # an unusable CA bundle or client cert: refused at start
        if channel.callback_url.startswith("https://"):
            channel.client_tls()
    store = store or default_store()
    base = (base_url or f"http://{config.listen.host}:{config.listen.port}").rstrip("/")
    live = LiveConfig(config)
    journal_path = config.journal.path
    requests = Journal[RequestRecord](
        config.journal.capacity,
        path=f"{journal_path}.requests.jsonl" if journal_path else None,
    )
    deliveries = Journal[DeliveryEntry](
        config.journal.capacity,
        path=f"{journal_path}.deliveries.jsonl" if journal_path else None,
    )
    ratings = Journal[Rating](
        config.journal.capacity,
        path=f"{journal_path}.satisfaction.jsonl" if journal_path else None,
    )
    metrics = Metrics()

    def on_attempt(record: AttemptRecord) -> None:
        deliveries.append(record)
        metrics.delivery(record.verdict)
        console_log.attempt(record, config.delivery.attempts)

    faults = fault_store(config.faults, store, clock)
    library = ScenarioLibrary(config)
    # state.path: the stores tell `changes` what to write; None (the default) costs nothing
    changes = Changes() if config.state.path else None

    def history_limit() -> int:
        return live.current.history.max_per_user

    sessions = SessionStore(
        history_limit=history_limit, changed=None if changes is None else changes.customer
    )
    token_store = TokenStore(
        clock, is_live=sessions.is_live, changed=None if changes is None else changes.token
    )
    files = Files(live, FileStore(changed=None if changes is None else changes.file), base_url=base)
    library.register_media(files.store)
    tokens = Tokens(live, token_store, sessions)
    poll = Poll(live, store, sessions, deliveries, clock)
    idle = IdleTimers(clock)
    calls = CallBook(live, clock)
    deliverer = Deliverer(
        None, policy=config.delivery, store=store, on_attempt=on_attempt, clock=clock
    )
    runs = Runs(
        live,
        sessions=sessions,
        library=library,
        idle=idle,
        poll=poll,
        deliverer=deliverer,
        tokens=token_store,
        calls=calls,
        clock=clock,
        base_url=base,
        on_fault=from_scenario(faults, store),
    )
    conversation = Conversation(
        live, sessions=sessions, library=library, runs=runs, idle=idle, poll=poll, clock=clock
    )
    leave_messages = LeaveMessages(clock, left=None if changes is None else changes.leave)
    satisfaction = Satisfaction(live, journal=ratings, sessions=sessions, runs=runs, clock=clock)
    click_to_call = ClickToCall(
        live, book=calls, sessions=sessions, runs=runs, library=library, clock=clock
    )
    persister = None
    if changes is not None and config.state.path is not None:
        # imported here: simulator.state imports the server's stores (and nothing of it is
        # loaded when state is in memory only)
        from simulator.state.startup import open_state

        persister = open_state(
            config.state.path,
            changes,
            tokens=token_store,
            sessions=sessions,
            files=files.store,
            leave_messages=leave_messages,
            ratings=ratings,
            deliveries=deliveries,
            conversation=conversation,
            history_limit=history_limit,
            clock=clock,
        )
    reset = Reset(
        (
            runs.clear,
            idle.clear,
            poll.clear,
            sessions.clear,
            token_store.clear,
            files.store.clear,
            lambda: library.register_media(files.store),
            leave_messages.clear,
            calls.clear,
            ratings.clear,
            requests.clear,
            deliveries.clear,
            metrics.clear,
            *(() if persister is None else (persister.clear,)),
        )
    )

    # state.path's; the front door (front_door.py) is added once the app is complete
    middlewares: list[Middleware] = []
    if persister is not None:
        from simulator.state.persister import state_middleware

        # inside the front door: a failed write is answered as any internal fault
        middlewares.append(state_middleware)
    app = web.Application(
        middlewares=middlewares,
        client_max_size=config.limits.max_body_bytes,
    )
    app[CONFIG] = live
    app[STORE] = store
    app[CLOCK] = clock
    app[BODY_TIMEOUT] = config.limits.body_timeout
    app[admin.STARTED] = time.monotonic()
    app[METRICS] = metrics
    app[REQUESTS] = requests
    app[DELIVERIES] = deliveries
    app[LIBRARY] = library
    app[SESSIONS] = sessions
    app[TOKENS] = tokens
    app[FILES] = files
    app[POLL] = poll
    app[DELIVERER] = deliverer
    app[RUNS] = runs
    app[CONVERSATION] = conversation
    app[QUEUE_INFO] = QueueInfo(live, sessions, clock)
    app[HISTORY] = History(sessions)
    app[LEAVE_MESSAGES] = leave_messages
    app[INJECT] = Inject(store, sessions, runs, clock)
    app[SATISFACTION] = satisfaction
    app[PHRASES] = Phrases(live)
    app[CLICK_TO_CALL] = click_to_call
    app[RESET] = reset
    app[FAULTS] = faults
    gate = app[ADMISSION] = Admission(lambda: runs.conductor.active)
    routes.install(app, tokens, store, gate, faults)
    admin_table.install(app)
    app.add_routes(echo.routes)
    console.setup(app)
    door = FrontDoor(app)
    if front_door:
        app[FRONT_DOOR] = door  # the server calls it around the app (runner.py)
    else:
        app.middlewares.insert(0, door.middleware)  # outside state.path's

    async def shut_down(app: web.Application) -> None:
        runs.conductor.cancel_all()
        idle.clear()
        gate.close()
        await deliverer.close()
        requests.close()
        deliveries.close()
        ratings.close()

    app.on_cleanup.append(shut_down)
    if persister is not None:
        from simulator.state.persister import PERSISTER, settle

        app[PERSISTER] = persister
        app[SETTLE] = settle

        async def start_state(app: web.Application) -> None:
            persister.start()

        async def stop_state(app: web.Application) -> None:
            await persister.close()  # after shut_down: what it ended is written too

        app.on_startup.append(start_state)
        app.on_cleanup.append(stop_state)
    return app
