"""The names a fault rule may use for the emulated AICC's calls, and the checks that refuse a
rule that could never fire (an endpoint no row answers, a method it is not called with, a
``controlType`` on a call whose body has none). Pure, no I/O.

The names are the route table's row names (:attr:`simulator.server.endpoint.Route.name`).
They are written out here because the checks run where rules enter, in layers that come
before the server (the config file's and the scenarios' checks give ``file:line``); a test
(``tests/test_fault_rules.py``) keeps this table equal to the route table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from simulator.core.errors import Violation

__all__ = ["MESSAGE_OPERATIONS", "OPERATIONS", "name_violations"]

#: every operation a rule's ``match.endpoint`` can name -> the HTTP method it is called with
OPERATIONS: Final[Mapping[str, str]] = {
    "tokenByAkSk": "POST",
    "applyToken": "POST",
    "send": "POST",
    "sendAsync": "POST",
    "poll": "GET",
    "queryQueueInfo": "POST",
    "uploadFileStream": "POST",
    "downloadFileStream": "POST",
    "queryHistoryChatMessage": "POST",
    "doLeaveMessage": "POST",
    "pushMsg": "POST",
    "queryPhraseByKeyword": "POST",
    "getsatisfactionsurveymode": "POST",
    "saveSatisfaction": "POST",
    "feedbacksatisfaction": "POST",
    "checkClickToCallSupport": "GET",
    "createClickToCall": "POST",
    "getClickToCallEvents": "GET",
    "dropClickToCall": "POST",
    "files": "GET",
}

#: the operations whose request body carries ``controlType`` and ``mediaType`` at its top
#: (a customer's message); a rule asking for either matches no other call
MESSAGE_OPERATIONS: Final = frozenset({"send", "sendAsync"})


def _unknown(name: str) -> str:
    """Why ``name`` is refused: a close match when there is one, else every known name."""
    import difflib  # only to word a refusal: not on every start-up

    close = difflib.get_close_matches(name, OPERATIONS, n=1, cutoff=0.6)
    if not close:
        close = [known for known in OPERATIONS if known.lower() == name.lower()]
    hint = f"did you mean {close[0]!r}?" if close else "known: " + ", ".join(OPERATIONS)
    return f"{name!r} is not an endpoint of the emulated AICC; {hint}"


def _named(match: Mapping[str, Any], at: str) -> Iterator[tuple[str, str]]:
    """The endpoint names of ``match`` with the pointer of each."""
    endpoint = match.get("endpoint")
    if isinstance(endpoint, str):
        yield endpoint, f"{at}/match/endpoint"
    elif isinstance(endpoint, list):
        for index, name in enumerate(endpoint):
            yield name, f"{at}/match/endpoint/{index}"


def name_violations(document: Mapping[str, Any], at: str = "") -> list[Violation]:
    """The rule's names that no call of the emulated AICC can meet; ``document`` conforms to
    the ``fault-rule`` schema, pointers start with ``at``."""
    match = document.get("match", {})
    found: list[Violation] = []
    named = list(_named(match, at))
    for name, pointer in named:
        if name not in OPERATIONS:
            found.append(Violation(pointer, _unknown(name)))
    known = [name for name, _ in named if name in OPERATIONS]
    if found and not known:
        return found  # what the other fields can meet depends on the endpoints given
    scope = known or list(OPERATIONS)
    method = match.get("method")
    if method is not None and all(OPERATIONS[name] != method for name in scope):
        if known:
            called = ", ".join(f"{name} is called with {OPERATIONS[name]}" for name in known)
            found.append(Violation(f"{at}/match/method", f"{method} never meets it: {called}"))
        else:
            methods = " or ".join(sorted(set(OPERATIONS.values())))
            found.append(
                Violation(f"{at}/match/method", f"no endpoint is called with {method} ({methods})")
            )
    if known and not MESSAGE_OPERATIONS.intersection(known):
        for member in ("controlType", "mediaType"):
            if member in match:
                found.append(
                    Violation(
                        f"{at}/match/{member}",
                        f"only the bodies of {' and '.join(sorted(MESSAGE_OPERATIONS))} carry a "
                        f"{member}; {', '.join(known)} never matches",
                    )
                )
    return found
