"""The pure scenario engine, driven with fake monotonic times (no sleeping, no event loop)."""

from __future__ import annotations

import gc
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest

from simulator.core.errors import ScenarioError
from simulator.core.push import PlannedPush, PushFaults
from simulator.core.validation import default_store
from simulator.scenario import (
    RunContext,
    ScenarioRun,
    Uplink,
    load_builtin,
    load_path,
    load_text,
    simulate,
)

WALL = 1625898453913
USER = "44444444"
CHANNEL = "202105284494222653"


def make_run(yaml_steps: str, *, head: str = "", **context: Any) -> ScenarioRun:
    """A run of an inline scenario (``yaml_steps`` is the body of ``steps:``)."""
    text = f"name: t\n{head}steps:\n{yaml_steps}"
    options: dict[str, Any] = {"wall_ms": lambda: WALL, "seed": 7}
    options.update(context)
    return ScenarioRun(load_text(text, "t.yaml"), RunContext(USER, CHANNEL, **options))


def contents(pushes: tuple[PlannedPush, ...] | list[PlannedPush]) -> list[Any]:
    return [m["content"] for p in pushes for m in p.messages]


CHAT = Uplink("CHAT", "TEXT", "hello", "m1")


# -- push and batch -------------------------------------------------------------------------


def test_push_fills_defaults_from_channel_and_session() -> None:
    run = make_run("  - push: {content: hi}\n")
    advance = run.start(0.0)
    assert advance.finished and run.outcome == "completed"
    (push,) = advance.pushes
    assert push.messages == (
        {
            "from": CHANNEL,
            "channel": "WEB",
            "to": USER,
            "controlType": "CHAT",
            "mediaType": "TEXT",
            "content": "hi",
            "simQuestions": None,
            "senderNickname": None,
            "timestamp": WALL,
            "sourceType": "AGENT",
            "messageCode": None,
        },
    )
    assert push.faults == PushFaults()
    assert push.step == "steps[0]"
    assert list(push.messages[0]) == [
        "from",
        "channel",
        "to",
        "controlType",
        "mediaType",
        "content",
        "simQuestions",
        "senderNickname",
        "timestamp",
        "sourceType",
        "messageCode",
    ]


def test_every_field_can_be_given_and_extra_and_omit_work() -> None:
    run = make_run(
        "  - push:\n"
        "      from: other-channel\n      to: someone\n      channel: WEB\n"
        "      controlType: CHAT\n      mediaType: TEXT\n      sourceType: ROBOT\n"
        "      senderNickname: Bot\n      content: x\n      timestamp: 5\n"
        "      simQuestions: q?\n      messageCode: mc\n      isOfflineStatus: false\n"
        "      callId: c1\n      extra: {robotGender: MALE}\n      omit: [simQuestions]\n"
    )
    (message,) = run.start(0.0).pushes[0].messages
    assert message == {
        "from": "other-channel",
        "channel": "WEB",
        "to": "someone",
        "controlType": "CHAT",
        "isOfflineStatus": False,
        "mediaType": "TEXT",
        "content": "x",
        "senderNickname": "Bot",
        "timestamp": 5,
        "sourceType": "ROBOT",
        "callId": "c1",
        "messageCode": "mc",
        "robotGender": "MALE",
    }


def test_batch_is_one_post_with_one_timestamp() -> None:
    clock = iter(range(WALL, WALL + 100))
    run = make_run(
        "  - batch:\n      - {content: one}\n      - {content: two}\n",
        wall_ms=lambda: next(clock),
    )
    (push,) = run.start(0.0).pushes
    assert contents([push]) == ["one", "two"]
    assert {m["timestamp"] for m in push.messages} == {WALL}


def test_message_code_is_fresh_per_message_and_seeded() -> None:
    steps = (
        "  - batch:\n      - {content: a, messageCode: '{{ messageCode }}'}\n"
        "      - {content: '{{ messageCode }}', messageCode: '{{ messageCode }}'}\n"
    )
    first = make_run(steps, seed=1).start(0.0).pushes[0].messages
    again = make_run(steps, seed=1).start(0.0).pushes[0].messages
    other = make_run(steps, seed=2).start(0.0).pushes[0].messages
    codes = [m["messageCode"] for m in first]
    assert codes[0] != codes[1]
    assert first[1]["content"] == codes[1]  # one code per message, wherever it is used
    assert all(re.fullmatch(r"[0-9a-f]{32}", c) for c in codes), codes
    assert first == again
    assert [m["messageCode"] for m in other] != codes


def test_builtin_variables() -> None:
    run = make_run(
        "  - push: {content: '{{ userId }}|{{ channelId }}|{{ now_ms }}|{{ tips }}|"
        "{{ idleTimeout }}'}\n",
        tips="Leave a message",
        idle_timeout=9.5,
    )
    assert contents(run.start(0.0).pushes) == [f"{USER}|{CHANNEL}|{WALL}|Leave a message|9.5"]


def test_when_skips_a_push_that_renders_empty() -> None:
    steps = (
        "  - push: {control: READ, media: null, content: '{{ messageIds }}'}\n"
        "    when: '{{ messageIds }}'\n  - push: {content: after}\n"
    )
    assert contents(make_run(steps).start(0.0).pushes) == ["after"]
    run = make_run(steps, message_ids=("a", "b"))
    assert contents(run.start(0.0).pushes) == ["a,b", "after"]


# -- wait and speed --------------------------------------------------------------------------


def test_wait_blocks_until_its_deadline() -> None:
    run = make_run("  - push: {content: a}\n  - wait: 2\n  - push: {content: b}\n")
    first = run.start(10.0)
    assert (contents(first.pushes), first.wake_at, first.finished) == (["a"], 12.0, False)
    assert run.position == "steps[1]"
    early = run.advance(11.9)
    assert (early.pushes, early.wake_at, early.finished) == ((), 12.0, False)
    due = run.advance(12.0)
    assert (contents(due.pushes), due.wake_at, due.finished) == (["b"], None, True)
    assert run.position == "end"


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [("1.5", 1.5), ("1.5s", 1.5), ("250ms", 0.25), ("2m", 120.0), ("0", 0.0), (3, 3.0)],
)
def test_duration_forms(raw: Any, seconds: float) -> None:
    value = f"'{raw}'" if isinstance(raw, str) else raw
    run = make_run(f"  - wait: {value}\n  - push: {{content: x}}\n")
    advance = run.start(0.0)
    if seconds == 0:
        assert advance.finished
    else:
        assert advance.wake_at == pytest.approx(seconds)


def test_speed_scales_waits_timeouts_and_fault_delays() -> None:
    steps = (
        "  - wait: 2\n  - push: {content: a}\n    faults: {delay: 1}\n"
        "  - expect: {timeout: 4, on_timeout: [{push: {content: late}}]}\n"
    )
    run = make_run(steps, speed=2.0)
    assert run.start(0.0).wake_at == 1.0
    after_wait = run.advance(1.0)
    assert after_wait.pushes[0].faults.delay == 0.5
    assert after_wait.wake_at == 3.0
    assert contents(run.advance(3.0).pushes) == ["late"]


def test_bad_speed_is_refused() -> None:
    for speed in (0.0, -1.0, float("inf"), float("nan")):
        with pytest.raises(ScenarioError, match="speed"):
            make_run("  - wait: 1\n", speed=speed)


def test_templated_duration_from_run_vars() -> None:
    head = "vars:\n  pause: 1\n"
    run = make_run("  - wait: '{{ pause }}'\n", head=head, vars={"pause": "300ms"})
    assert run.start(0.0).wake_at == pytest.approx(0.3)


def test_templated_duration_that_is_bad_at_run_time_fails_the_run() -> None:
    run = make_run(
        "  - push: {content: a}\n  - wait: '{{ pause }}'\n",
        head="vars:\n  pause: 1\n",
        vars={"pause": "soon"},
    )
    advance = run.start(0.0)
    assert advance.finished and contents(advance.pushes) == ["a"]
    assert run.outcome == "failed"
    assert run.error is not None and "steps[1]: bad duration 'soon'" in run.error


def test_a_late_driver_catches_up_in_order() -> None:
    run = make_run(
        "  - wait: 1\n  - push: {content: a}\n  - wait: 1\n  - push: {content: b}\n"
        "  - wait: 5\n  - push: {content: c}\n"
    )
    run.start(0.0)
    late = run.advance(2.5)  # the first two waits are over; the third ends at 7
    assert (contents(late.pushes), late.wake_at) == (["a", "b"], 7.0)


# -- expect ----------------------------------------------------------------------------------

EXPECT = (
    "  - expect:\n      timeout: 5\n"
    "      on_message: [{push: {content: 'got {{ lastMessage }}'}}]\n"
    "      on_timeout: [{push: {content: timeout}}]\n"
    "  - push: {content: after}\n"
)


def test_expect_branches_on_a_message() -> None:
    run = make_run(EXPECT)
    assert run.start(0.0).wake_at == 5.0
    assert run.position == "steps[0]"
    advance = run.feed(CHAT, 1.0)
    assert contents(advance.pushes) == ["got hello", "after"]
    assert advance.finished


def test_expect_branches_on_timeout() -> None:
    run = make_run(EXPECT)
    run.start(0.0)
    assert run.advance(4.99).pushes == ()
    assert contents(run.advance(5.0).pushes) == ["timeout", "after"]


def test_expect_ignores_other_control_types() -> None:
    run = make_run(EXPECT)
    run.start(0.0)
    typing = run.feed(Uplink("INPUT"), 1.0)
    assert (typing.pushes, typing.wake_at) == ((), 5.0)
    assert contents(run.feed(CHAT, 2.0).pushes) == ["got hello", "after"]


def test_expect_without_timeout_waits_for_ever() -> None:
    run = make_run("  - expect: {control: [CHAT, TRANS2AGENT]}\n  - push: {content: go}\n")
    start = run.start(0.0)
    assert (start.wake_at, start.finished) == (None, False)
    assert run.advance(1e9).pushes == ()
    assert contents(run.feed(Uplink("TRANS2AGENT"), 1e9).pushes) == ["go"]


def test_expect_branch_per_control_type() -> None:
    steps = (
        "  - label: again\n    expect:\n      control: [CHAT, TRANS2AGENT]\n"
        "      on:\n        CHAT: [{push: {content: chat}}, {goto: again}]\n"
        "        TRANS2AGENT: [{push: {content: transfer}}]\n"
        "  - push: {content: done}\n"
    )
    run = make_run(steps)
    run.start(0.0)
    assert contents(run.feed(CHAT, 1.0).pushes) == ["chat"]
    assert run.position == "steps[0]"
    assert contents(run.feed(Uplink("TRANS2AGENT"), 2.0).pushes) == ["transfer", "done"]


def test_uplinks_during_a_wait_are_kept_for_the_next_expect() -> None:
    run = make_run("  - wait: 3\n" + EXPECT)
    run.start(0.0)
    kept = run.feed(Uplink("INPUT"), 1.0)
    kept = run.feed(Uplink("CHAT", "TEXT", "early", "m0"), 1.5)
    assert kept.pushes == ()
    assert contents(run.advance(3.0).pushes) == ["got early", "after"]


def test_customer_disconnect_cancels_the_run() -> None:
    run = make_run("  - wait: 3\n  - push: {content: never}\n")
    run.start(0.0)
    advance = run.feed(Uplink("DISCONNECT"), 1.0)
    assert (advance.pushes, advance.finished, advance.wake_at) == ((), True, None)
    assert run.outcome == "cancelled"
    assert run.advance(5.0).pushes == ()


def test_disconnect_can_be_expected() -> None:
    run = make_run(
        "  - expect:\n      control: DISCONNECT\n      on_message: [{push: {content: bye}}]\n"
    )
    run.start(0.0)
    assert contents(run.feed(Uplink("DISCONNECT"), 1.0).pushes) == ["bye"]
    assert run.outcome == "completed"


def test_cancel_stops_everything() -> None:
    run = make_run("  - wait: 1\n  - push: {content: x}\n")
    run.start(0.0)
    run.cancel()
    assert run.finished and run.outcome == "cancelled" and run.wake_at is None
    assert run.advance(2.0).pushes == ()
    run.cancel()  # idempotent
    assert run.outcome == "cancelled"


def test_message_ids_are_joined_and_consumed_by_the_read_receipt() -> None:
    read = (
        "  - push: {control: READ, media: null, content: '{{ messageIds }}'}\n"
        "    when: '{{ messageIds }}'\n"
    )
    steps = (
        "  - label: top\n    expect:\n      on_message:\n        - wait: 1\n"
        + read.replace("  - ", "        - ").replace("    when", "          when")
        + "        - goto: top\n"
    )
    run = make_run(steps)
    run.start(0.0)
    run.feed(Uplink("CHAT", "TEXT", "a", "id1"), 0.0)
    run.feed(Uplink("CHAT", "TEXT", "b", "id2"), 0.5)  # kept while the run waits
    run.feed(Uplink("INPUT", None, None, "typing-id"), 0.6)  # not a CHAT: not read
    first = run.advance(1.0)
    assert contents(first.pushes) == ["id1,id2"]
    second = run.advance(2.0)  # the kept "b" was consumed by the next expect; nothing new
    assert second.pushes == ()


# -- repeat, set, goto, end -----------------------------------------------------------------


def test_repeat() -> None:
    steps = (
        "  - repeat:\n      times: 3\n      steps:\n"
        "        - push: {content: outer}\n"
        "        - repeat: {times: 2, steps: [{push: {content: inner}}]}\n"
        "  - repeat: {times: 0, steps: [{push: {content: never}}]}\n"
    )
    assert contents(make_run(steps).start(0.0).pushes) == ["outer", "inner", "inner"] * 3


def test_repeat_with_waits() -> None:
    run = make_run("  - repeat:\n      times: 2\n      steps: [{push: {content: x}}, {wait: 1}]\n")
    timeline = simulate(run)
    assert [(t.at, contents([t.push])) for t in timeline] == [(0.0, ["x"]), (1.0, ["x"])]
    assert run.outcome == "completed"


def test_set_and_run_vars() -> None:
    head = "vars:\n  who: nobody\n  n: 1\n"
    steps = (
        "  - push: {content: '{{ who }}'}\n  - set: {who: 'agent {{ who }}', n: 2}\n"
        "  - push: {content: '{{ who }} {{ n }}'}\n"
    )
    assert contents(make_run(steps, head=head).start(0.0).pushes) == ["nobody", "agent nobody 2"]
    assert contents(make_run(steps, head=head, vars={"who": "Bob"}).start(0.0).pushes) == [
        "Bob",
        "agent Bob 2",
    ]


def test_unknown_run_vars_are_refused() -> None:
    with pytest.raises(ScenarioError, match=r"no variable 'oops' \(declared: who\)"):
        make_run("  - wait: 1\n", head="vars: {who: x}\n", vars={"oops": 1})


def test_goto_and_end() -> None:
    steps = (
        "  - push: {content: a}\n  - goto: skip\n  - push: {content: skipped}\n"
        "  - label: skip\n    push: {content: b}\n  - end: true\n  - push: {content: never}\n"
    )
    run = make_run(steps)
    assert contents(run.start(0.0).pushes) == ["a", "b"]
    assert run.outcome == "completed"


def test_a_loop_without_a_wait_fails_instead_of_hanging() -> None:
    run = make_run("  - label: spin\n    set: {x: 1}\n  - goto: spin\n", head="vars: {x: 0}\n")
    advance = run.start(0.0)
    assert advance.finished and run.outcome == "failed"
    assert run.error is not None and "without a wait" in run.error


def test_start_twice_and_advance_before_start_are_refused() -> None:
    run = make_run("  - wait: 1\n")
    with pytest.raises(ScenarioError, match="not started"):
        run.advance(0.0)
    with pytest.raises(ScenarioError, match="not started"):
        run.feed(CHAT, 0.0)
    run.start(0.0)
    with pytest.raises(ScenarioError, match="already started"):
        run.start(0.0)


def test_positions_for_the_admin_api() -> None:
    run = make_run(
        "  - wait: 1\n  - expect:\n      timeout: 9\n"
        "      on_message: [{wait: 1}, {push: {content: x}}]\n"
    )
    assert (run.position, run.outcome) == ("start", "pending")
    run.start(0.0)
    assert (run.position, run.outcome) == ("steps[0]", "running")
    run.advance(1.0)
    assert run.position == "steps[1]"
    run.feed(CHAT, 2.0)
    assert run.position == "steps[1].expect.on_message[0]"


# -- faults ----------------------------------------------------------------------------------


def test_fault_flags_map_onto_push_faults() -> None:
    steps = (
        "  - push: {content: a}\n    faults: {duplicate: 2}\n"
        "  - push: {content: b}\n    faults: {duplicate: true, drop: true}\n"
        "  - push: {content: c}\n    faults: {auth: wrong}\n"
        "  - push: {content: d}\n    faults: {auth: missing}\n"
    )
    faults = [p.faults for p in make_run(steps).start(0.0).pushes]
    assert faults == [
        PushFaults(duplicate=2),
        PushFaults(duplicate=1, drop=True),
        PushFaults(auth="wrong"),
        PushFaults(auth="missing"),
    ]


def test_invalid_payload_skips_validation_and_is_marked() -> None:
    steps = "  - push: {control: BOGUS, content: 42, omit: [to]}\n    faults: {invalid: true}\n"
    (push,) = make_run(steps).start(0.0).pushes
    assert push.faults.invalid
    assert "to" not in push.messages[0]
    assert not default_store().is_valid("downlink-message", push.messages[0])


def test_reorder_swaps_with_the_next_push_even_across_a_wait() -> None:
    steps = (
        "  - push: {content: first}\n    faults: {reorder: true}\n"
        "  - wait: 1\n  - push: {content: second}\n  - push: {content: third}\n"
    )
    run = make_run(steps)
    assert run.start(0.0).pushes == ()
    assert contents(run.advance(1.0).pushes) == ["second", "first", "third"]


def test_a_held_push_is_sent_when_the_run_ends() -> None:
    run = make_run("  - push: {content: last}\n    faults: {reorder: true}\n")
    assert contents(run.start(0.0).pushes) == ["last"]


def test_a_held_push_is_dropped_on_cancel() -> None:
    run = make_run("  - push: {content: held}\n    faults: {reorder: true}\n  - wait: 1\n")
    run.start(0.0)
    run.cancel()
    assert run.advance(2.0).pushes == ()


def test_delay_with_jitter_is_seeded_and_bounded() -> None:
    steps = (
        "  - repeat:\n      times: 20\n      steps:\n"
        "        - push: {content: x}\n          faults: {delay: 1, jitter: 0.5}\n"
    )

    def delays(seed: int, speed: float = 1.0) -> list[float]:
        return [p.faults.delay for p in make_run(steps, seed=seed, speed=speed).start(0.0).pushes]

    first = delays(3)
    assert first == delays(3)
    assert first != delays(4)
    assert all(1.0 <= d <= 1.5 for d in first)
    assert len(set(first)) > 1
    assert delays(3, speed=2.0) == pytest.approx([d / 2 for d in first])


# -- memory ----------------------------------------------------------------------------------


def test_ten_thousand_runs_stay_small() -> None:
    scenario = load_builtin("connected")
    users = [f"user{i}" for i in range(10_000)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    runs = []
    for user in users:  # the context is part of a run's cost
        run = ScenarioRun(scenario, RunContext(user, CHANNEL, wall_ms=lambda: WALL))
        run.start(0.0)
        run.advance(1.0)
        run.advance(1.5)
        run.feed(Uplink("CHAT", "TEXT", "hi", "m1"), 2.0)  # now holds an unread messageId
        runs.append(run)
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    grown = sum(s.size_diff for s in after.compare_to(before, "filename"))
    per_run = grown / len(runs)
    assert per_run < 16 * 1024, f"{per_run:.0f} bytes per run"
    assert per_run < 2 * 1024, f"{per_run:.0f} bytes per run (expected a few hundred)"
    assert all(r.position == "steps[5].expect.on_message[0]" for r in runs)


def test_the_documented_every_step_example_runs() -> None:
    scenario = load_path(Path(__file__).parent / "fixtures/scenarios/good/every-step.yaml")
    run = ScenarioRun(scenario, RunContext(USER, CHANNEL, wall_ms=lambda: WALL, seed=5))
    timeline = simulate(
        run,
        [(1.0, Uplink("CHAT", "TEXT", "one", "a1")), (1.1, Uplink("CHAT", "TEXT", "two", "a2"))],
    )
    assert run.outcome == "completed", run.error
    steps = [t.push.step for t in timeline]
    assert steps.index("steps[4]") < steps.index("steps[3]")  # reordered
    said = [m["content"] for t in timeline for m in t.push.messages]
    assert "Earlier: nothing yet. Now: one" in said
    assert "Earlier: one. Now: two" in said
    assert said.count("Are you there?") == 2
    faults = {t.push.step: t.push.faults for t in timeline}
    assert faults["steps[2]"].duplicate == 1 and 0.2 <= faults["steps[2]"].delay <= 0.3
    assert faults["steps[6]"].auth == "wrong"
    assert faults["steps[7]"].drop
    assert faults["steps[8]"].invalid
