"""The scenario additions for the customer-side capabilities, in the pure engine: the
``call_event`` step and branches on a rating's value (``SATISFACTION:1``)."""

from __future__ import annotations

import pytest

from simulator.core.errors import FileError
from simulator.scenario import RunContext, ScenarioRun, Uplink, load_builtin, load_text, simulate

USER = "44444444"
CHANNEL = "202105284494222653"


def run_of(steps: str, *, head: str = "") -> ScenarioRun:
    scenario = load_text(f"name: t\n{head}steps:\n{steps}", "t.yaml")
    return ScenarioRun(scenario, RunContext(USER, CHANNEL, wall_ms=lambda: 1, seed=1))


def test_call_event_steps_become_call_events_not_messages() -> None:
    run = run_of(
        "  - call_event: queuing\n"
        "  - wait: 1\n"
        "  - call_event: {event: failed, causeId: '{{ cause }}', causeDesc: busy}\n",
        head="vars: {cause: '486'}\n",
    )
    timeline = simulate(run)
    assert [(t.at, t.push.call_event, t.push.messages) for t in timeline] == [
        (0.0, {"event": "queuing"}, ()),
        (1.0, {"event": "failed", "causeId": "486", "causeDesc": "busy"}, ()),
    ]
    assert [t.push.step for t in timeline] == ["steps[0]", "steps[2]"]
    assert run.outcome == "completed"


@pytest.mark.parametrize("name", ["call-connected", "call-queue-timeout", "call-failed"])
def test_the_call_builtins(name: str) -> None:
    run = ScenarioRun(load_builtin(name), RunContext(USER, CHANNEL))
    events = [t.push.call_event["event"] for t in simulate(run) if t.push.call_event]
    assert events == {
        "call-connected": ["queuing", "connected"],
        "call-queue-timeout": ["queuing", "queue-timeout"],
        "call-failed": ["failed"],
    }[name]


RATED = (
    "  - expect:\n"
    "      control: [SATISFACTION, FEEDBACK]\n"
    "      on:\n"
    "        SATISFACTION:1: [{push: {content: sorry}}]\n"
    "        SATISFACTION: [{push: {content: thanks}}]\n"
    "        FEEDBACK:0: [{push: {content: bad bot}}]\n"
    "      on_message: [{push: {content: other}}]\n"
)


@pytest.mark.parametrize(
    ("uplink", "answer"),
    [
        (Uplink("SATISFACTION", content="1"), "sorry"),
        (Uplink("SATISFACTION", content="4"), "thanks"),  # no value branch: the control's
        (Uplink("FEEDBACK", content="0"), "bad bot"),
        (Uplink("FEEDBACK", content="1"), "other"),
    ],
)
def test_a_rating_branches_on_its_value(uplink: Uplink, answer: str) -> None:
    timeline = simulate(run_of(RATED), [(0.5, uplink)])
    assert [m["content"] for t in timeline for m in t.push.messages] == [answer]


@pytest.mark.parametrize(
    ("steps", "reason"),
    [
        ("  - call_event: ringing\n", "call_event"),
        ("  - call_event: {event: connected, colour: red}\n", "call_event"),
        ("  - call_event: {causeId: '1'}\n", "call_event"),
        (
            "  - expect:\n      control: SATISFACTION\n      on: {SATISFACTION:6: []}\n",
            "SATISFACTION:6",
        ),
        (
            "  - expect:\n      control: CHAT\n      on: {SATISFACTION:1: []}\n",
            "does not wait for",
        ),
        ("  - call_event: {event: connected, domain: '{{ nope }}'}\n", "unknown variable"),
    ],
)
def test_bad_call_event_and_rating_steps_are_refused_with_their_line(
    steps: str, reason: str
) -> None:
    with pytest.raises(FileError) as caught:
        load_text(f"name: t\nsteps:\n{steps}", "t.yaml")
    assert caught.value.line is not None and caught.value.line >= 3, caught.value
    assert reason in str(caught.value), caught.value
