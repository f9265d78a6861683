"""The fixture's teardown check and ``AdminClient.assert_clean()``: a test whose code broke
the AICC contract fails (with the journal entries), a clean one passes, the opt-outs work.
Run in fresh pytest processes (pytester) through the installed entry point."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.testing.contract_check import breaches, refused_push, refused_request

pytest_plugins = ["pytester"]

INNER_INI = """
[pytest]
addopts = --strict-markers --strict-config -p no:cacheprovider
filterwarnings = error
asyncio_mode = auto
asyncio_default_fixture_loop_scope = function
"""

INNER_TESTS = """
import json
import urllib.error
import urllib.request

import pytest


def post(aicc_sim, path, body, headers=None):
    request = urllib.request.Request(
        aicc_sim.base_url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def good_token(aicc_sim):
    c = aicc_sim.credentials
    return post(aicc_sim, "/apigovernance/api/oauth/tokenByAkSk",
                {"app_key": c.app_key, "app_secret": c.app_secret})


def broken_token(aicc_sim):
    # app_secret is missing: the contract refuses it
    return post(aicc_sim, "/apigovernance/api/oauth/tokenByAkSk",
                {"app_key": aicc_sim.credentials.app_key})


def test_clean(aicc_sim):
    assert good_token(aicc_sim) == 200


def test_broken(aicc_sim):
    assert broken_token(aicc_sim) == 400


@pytest.mark.aicc_sim_expect_violations
def test_broken_on_purpose_marker(aicc_sim):
    assert broken_token(aicc_sim) == 400


def test_broken_on_purpose_handle(aicc_sim):
    aicc_sim.expect_violations()
    assert broken_token(aicc_sim) == 400


def test_an_answer_a_fault_gave_is_not_a_breach(aicc_sim):
    with aicc_sim.fault(endpoint="tokenByAkSk", status=503, times=1) as rule:
        assert good_token(aicc_sim) == 503
    assert aicc_sim.faults() == []
    assert rule["id"]
    assert good_token(aicc_sim) == 200


def test_assert_clean_for_container_users(aicc_sim):
    aicc_sim.expect_violations()
    aicc_sim.assert_clean()
    broken_token(aicc_sim)
    with pytest.raises(AssertionError, match="/app_secret|app_secret"):
        aicc_sim.assert_clean()
"""


@pytest.fixture
def inner(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.delenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    pytester.makeini(INNER_INI)
    return pytester


def test_the_contract_check_fails_a_broken_test_and_passes_a_clean_one(
    inner: pytest.Pytester,
) -> None:
    inner.makepyfile(test_inner=INNER_TESTS)
    result = inner.runpytest_subprocess("-q")
    result.assert_outcomes(passed=5, failed=1)
    result.stdout.fnmatch_lines(
        [
            "*_ test_broken _*",
            "*the code under test broke the AICC contract*",
            "*1 request(s) the AICC contract refused:*",
            "*POST /apigovernance/api/oauth/tokenByAkSk -> 400*",
            "*app_secret*",
            "*aicc_sim.expect_violations()*",
        ]
    )
    assert "test_clean" not in "\n".join(
        line for line in result.outlines if line.startswith("FAILED")
    )


# ------------------------------------------------------------------ the pure verdicts


def test_which_requests_and_pushes_are_breaches() -> None:
    requests: list[dict[str, Any]] = [
        {"seq": 1, "violations": 0, "fault": None},
        {"seq": 2, "violations": 2, "fault": None},
        {"seq": 3, "violations": 1, "fault": {"rule": "r", "did": "answered 503"}},
    ]
    deliveries: list[dict[str, Any]] = [
        {"seq": 1, "verdict": "accepted", "faults": None},
        {"seq": 2, "verdict": "http-error", "faults": None},
        {"seq": 3, "verdict": "rejected", "faults": {"auth": "wrong-token", "invalid": False}},
        {"seq": 4, "verdict": "rejected", "faults": None, "invalidByDesign": True},
        {"seq": 5, "verdict": "timeout", "faults": {"auth": "ok", "delay": 1.0}},
        {"seq": 6, "verdict": "dropped", "faults": {"drop": True}},
    ]
    assert [refused_request(e) for e in requests] == [False, True, False]
    assert [refused_push(e) for e in deliveries] == [False, True, False, False, True, False]
    bad_requests, bad_pushes = breaches(requests, deliveries)
    assert [e["seq"] for e in bad_requests] == [2]
    assert [e["seq"] for e in bad_pushes] == [2, 5]
