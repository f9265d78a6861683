"""The configuration's checks: the schema with friendly messages, then the cross-setting rules.

Pure: a document in, :class:`~simulator.core.errors.Violation` values out (``/pointer: reason``),
secrets never shown. :mod:`simulator.config` turns them into ``file:line`` errors.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, cast
from urllib.parse import urlsplit

from simulator.config.model import ECHO, LimitsConfig, TokenConfig, host_allowed, resolve_timezone
from simulator.core.errors import Violation
from simulator.core.faults.model import semantic_violations
from simulator.core.netloc import callback_url_problem
from simulator.core.validation import default_store, pointer_of

if TYPE_CHECKING:
    import jsonschema
    import referencing
    from jsonschema.exceptions import ValidationError

__all__ = ["config_schema", "violations"]


@cache
def config_schema() -> Mapping[str, Any]:
    """The config schema shipped in the package (``schemas/config.schema.json``)."""
    text = (resources.files("simulator.core") / "schemas" / "config.schema.json").read_text("utf-8")
    return cast(Mapping[str, Any], json.loads(text))


@cache
def _validator() -> jsonschema.Draft202012Validator:
    # Its own explaining validator (not the shared store's), because the messages below
    # need the raw errors: which keyword failed, which keys were extra, the subschema. Built
    # only for a config that fails the compiled verdict (the import of the pure-Python
    # engine alone is a fifth of the simulator's start-up).
    import jsonschema

    return jsonschema.Draft202012Validator(
        config_schema(),
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        registry=_referenced(),
    )


def _referenced() -> referencing.Registry[Any]:
    """The schemas config.schema.json refers to (``faults`` items are fault rules)."""
    import referencing
    import referencing.jsonschema

    text = (resources.files("simulator.core") / "schemas" / "fault-rule.schema.json").read_text(
        "utf-8"
    )
    schema = json.loads(text)
    resource: referencing.Resource[Any] = referencing.jsonschema.DRAFT202012.create_resource(schema)
    registry: referencing.Registry[Any] = referencing.Registry().with_resource(
        schema["$id"], resource
    )
    return registry


_SECRET_KEYS = frozenset({"app_secret", "push_key"})

# Messages for pattern failures, by the key that failed (the regex itself helps nobody).
_PATTERN_HINTS: Mapping[str, str] = {
    "callback_url": 'is not "echo" or an http:// or https:// URL',
    "start": "is not a time HH:MM from 00:00 to 24:00",
    "end": "is not a time HH:MM from 00:00 to 24:00",
    "id": "is not a channel id (1 to 64 of A-Z a-z 0-9 . _ -)",
    "on_connect": "is not a scenario name (letters, digits, . _ -)",
    "async_off": "is not a scenario name (letters, digits, . _ -)",
    "async_on": "is not a scenario name (letters, digits, . _ -)",
}
_ANYOF_HINTS: Mapping[str, str] = {
    "working_hours": 'must be "always", "never" or a mapping with timezone, days, start, end',
}


def _is_secret(path: list[str | int]) -> bool:
    return bool(path) and (path[-1] in _SECRET_KEYS or path == ["admin", "token"])


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _type_hint(key: str | int | None, value: Any) -> str:
    # YAML 1.1 turns unquoted digits into numbers and 17:30 into the sexagesimal 1050
    if key == "id" and isinstance(value, int | float):
        return " (quote the id: unquoted digits are a number in YAML)"
    if key in ("start", "end") and isinstance(value, int):
        return ' (quote the time, e.g. "17:30": YAML reads unquoted 17:30 as a number)'
    return ""


def _explain(error: ValidationError) -> Iterator[Violation]:
    """Friendly violations for one jsonschema error, secrets never shown."""
    path = list(error.absolute_path)
    pointer = pointer_of(path)
    key = path[-1] if path else None
    secret = _is_secret(path)
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for extra in sorted(set(value) - set(allowed), key=str):
            yield Violation(
                pointer_of([*path, extra]), f"unknown key (allowed: {', '.join(allowed)})"
            )
    elif kind == "required":
        for name in expected:
            if name not in value:
                why = " (required when push_mode is signature)" if name == "push_key" else ""
                yield Violation(pointer, f"missing required key {name!r}{why}")
    elif kind == "anyOf":
        yield from _explain_any_of(error, pointer, key)
    elif secret:
        yield Violation(pointer, _explain_secret(kind, expected, value))
    elif kind == "type":
        types = [expected] if isinstance(expected, str) else list(expected)
        wanted = " or ".join(repr(t) for t in types)
        yield Violation(pointer, f"{_show(value)} is not of type {wanted}{_type_hint(key, value)}")
    elif kind == "enum":
        yield Violation(pointer, f"{_show(value)} is not one of {_choices(expected)}")
    elif kind == "pattern" and isinstance(key, str) and key in _PATTERN_HINTS:
        yield Violation(pointer, f"{_show(value)} {_PATTERN_HINTS[key]}")
    elif kind == "pattern" and path[:1] == ["callback_allowlist"]:
        yield Violation(pointer, f"{_show(value)} is not a host name or IP address")
    else:
        yield Violation(pointer, error.message)


def _choices(expected: list[Any]) -> str:
    """An enum's choices, shown once: an upper-case twin of a listed lower-case choice
    (``DEBUG`` beside ``debug``) is left out; an upper-case-only enum is shown whole."""
    lower = {c for c in expected if isinstance(c, str)}
    shown = [
        c
        for c in expected
        if not (isinstance(c, str) and c.isupper() and c.lower() in lower and c.lower() != c)
    ]
    return ", ".join(repr(c) for c in shown)


def _explain_secret(kind: str, expected: Any, value: Any) -> str:
    if kind == "pattern" and isinstance(value, str):
        odd = "" if value.isascii() and value.isalnum() else ", some outside A-Z a-z 0-9"
        return f"must be exactly 43 characters of A-Z a-z 0-9 (got {len(value)}{odd}; value hidden)"
    if kind == "type":
        return f"must be of type {expected!r} (value hidden)"
    if kind in ("minLength", "maxLength"):
        bound = "at least" if kind == "minLength" else "at most"
        return f"must be {bound} {expected} characters (value hidden)"
    return f"invalid value (hidden): fails {kind}"


def _explain_any_of(
    error: ValidationError, pointer: str, key: str | int | None
) -> Iterator[Violation]:
    """For ``working_hours``: the errors of the branch that fits the value's kind."""
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context or ():
        branches.setdefault(int(sub.relative_schema_path[0]), []).append(sub)
    fitting = [
        errors
        for errors in branches.values()
        if not any(e.validator in ("type", "enum", "const") and not e.relative_path for e in errors)
    ]
    if len(fitting) == 1:
        for sub in fitting[0]:
            yield from _explain(sub)
        return
    hint = (
        _ANYOF_HINTS.get(key, "does not match any allowed form")
        if isinstance(key, str)
        else "does not match any allowed form"
    )
    yield Violation(pointer, f"{_show(error.instance)} {hint}")


def _schema_violations(document: Mapping[str, Any]) -> list[Violation]:
    store = default_store()
    store.compile("config")  # a broken bundled schema is an error, not a "cannot decide"
    try:
        if store.is_valid("config", document):
            return []  # the compiled verdict (the same schema file); explanations only below
    except ValueError:
        pass  # a value JSON cannot hold (a YAML date...): the explaining engine says where
    found: list[Violation] = []
    for error in _validator().iter_errors(document):
        found.extend(_explain(error))
    return found


_TOKENS: Final = TokenConfig()
_LIMITS: Final = LimitsConfig()


def _non_finite(value: Any, path: list[str | int]) -> Iterator[Violation]:
    # YAML's .nan slips through every minimum/maximum (all comparisons are false)
    if isinstance(value, float) and not math.isfinite(value):
        yield Violation(pointer_of(path), f"{value!r} is not a finite number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _non_finite(item, [*path, key])
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _non_finite(item, [*path, index])


def _duplicates(
    items: list[Mapping[str, Any]], list_key: str, item_key: str, what: str
) -> Iterator[Violation]:
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        value = item[item_key]
        if value in first:
            yield Violation(
                pointer_of([list_key, index, item_key]),
                f"duplicate {what} {value!r} (first at /{list_key}/{first[value]})",
            )
        first.setdefault(value, index)


def _hours_violations(hours: Mapping[str, Any], index: int) -> Iterator[Violation]:
    tz = hours.get("timezone", "UTC")
    if resolve_timezone(tz) is None:
        yield Violation(
            pointer_of(["channels", index, "working_hours", "timezone"]),
            f"unknown time zone {tz!r} (use an IANA name like Asia/Shanghai, UTC, "
            "or an offset like +08:00)",
        )
    if hours.get("start", "00:00") == hours.get("end", "24:00") or hours.get("start") == "24:00":
        yield Violation(
            pointer_of(["channels", index, "working_hours", "end"]),
            "the window is empty: end must differ from start (and start cannot be 24:00)",
        )


def _channel_violations(
    channel: Mapping[str, Any], index: int, allowlist: tuple[str, ...] | None
) -> Iterator[Violation]:
    hours = channel.get("working_hours")
    if isinstance(hours, Mapping):
        yield from _hours_violations(hours, index)
    url = channel.get("callback_url", ECHO)
    problem = callback_url_problem(url) if isinstance(url, str) and url != ECHO else None
    if problem is not None:
        yield Violation(pointer_of(["channels", index, "callback_url"]), f"the URL {problem}")
    elif allowlist is not None and url != ECHO:
        host = urlsplit(url).hostname
        if not host_allowed(host, allowlist):
            yield Violation(
                pointer_of(["channels", index, "callback_url"]),
                f"host {host!r} is not in callback_allowlist",
            )


def _token_violations(tokens: Mapping[str, Any]) -> Iterator[Violation]:
    default_ttl = tokens.get("access_token_default_ttl", _TOKENS.access_token_default_ttl)
    max_ttl = tokens.get("access_token_max_ttl", _TOKENS.access_token_max_ttl)
    if default_ttl > max_ttl:
        yield Violation(
            "/tokens/access_token_default_ttl",
            f"{default_ttl} is more than access_token_max_ttl ({max_ttl})",
        )


def _limit_violations(limits: Mapping[str, Any]) -> Iterator[Violation]:
    body = limits.get("max_body_bytes", _LIMITS.max_body_bytes)
    file_bytes = limits.get("max_file_bytes", _LIMITS.max_file_bytes)
    # an upload carries the file base64-encoded inside a JSON body: 4/3 of it plus envelope
    needed = -(-file_bytes // 3) * 4 + 4096
    if body < needed:
        yield Violation(
            "/limits/max_body_bytes",
            f"{body} is too small for a base64-encoded file of max_file_bytes ({file_bytes}): "
            f"needs at least {needed}",
        )


def _semantic_violations(doc: Mapping[str, Any]) -> list[Violation]:
    """Rules the schema cannot say; ``doc`` already conforms to the schema."""
    found: list[Violation] = list(_non_finite(doc, []))
    found.extend(_duplicates(doc["credentials"], "credentials", "app_key", "app_key"))
    found.extend(_duplicates(doc["channels"], "channels", "id", "channel id"))
    allowlist = doc.get("callback_allowlist")
    allowed = None if allowlist is None else tuple(allowlist)
    for index, channel in enumerate(doc["channels"]):
        found.extend(_channel_violations(channel, index, allowed))
    found.extend(_token_violations(doc.get("tokens", {})))
    found.extend(_limit_violations(doc.get("limits", {})))
    for index, rule in enumerate(doc.get("faults", ())):
        found.extend(semantic_violations(rule, f"/faults/{index}"))
    return found


def violations(document: Mapping[str, Any]) -> list[Violation]:
    """Every problem of a config document, secrets never shown; empty when it is good.

    The schema first; only a document that conforms is checked for the rules the schema
    cannot say (unique ids, time zones, the allowlist, TTLs, size limits).
    """
    return _schema_violations(document) or _semantic_violations(document)
