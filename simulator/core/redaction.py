"""Secrets kept out of every exit: answers, error messages, the journal and the log. Pure.

Three tools, one vocabulary: :func:`mask_document` masks secret fields at any depth of a
JSON value, :func:`mask_text` masks ``"field": "value"`` pairs and URL passwords in free
text (a body that is not JSON, a log line), and :func:`hide_values` removes the string
values of a refused request from the messages that explain the refusal (a schema message
quotes the instance it refuses: for a malformed tokenByAkSk body that would be the secret).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = [
    "MASK",
    "SECRET_FIELDS",
    "hide_values",
    "mask_document",
    "mask_text",
    "mask_url",
    "string_leaves",
]

MASK = "***"

#: Body fields whose values are secrets: the AK/SK secret sent to tokenByAkSk, the tokens
#: tokenByAkSk and applyToken answer with (the Bearer and ccmessaging-token of every later
#: call), and the simulator's own secrets as they appear in its configuration.
SECRET_FIELDS = frozenset(
    {"app_secret", "AccessToken", "token", "push_key", "push_token", "password", "admin_token"}
)

_FIELD_NAMES = "|".join(sorted(SECRET_FIELDS, key=len, reverse=True))
#: ``"app_secret": "v"``, ``'token': 'v'`` (a Python repr in a schema message), ``token=v``
_PAIR = re.compile(
    rf"""(?P<key>["']?(?:{_FIELD_NAMES})["']?\s*[:=]\s*)"""
    r"""(?:"(?:\\.|[^"\\])*"?|'(?:\\.|[^'\\])*'?|[^\s,}&;]+)"""
)
#: ``scheme://user:password@host``
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:)[^/@\s]*(?=@)")


def mask_text(text: str) -> str:
    """``text`` with secret-field values and URL passwords replaced by ``***``."""
    text = _PAIR.sub(lambda m: f'{m.group("key")}"{MASK}"', text)
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}", text)


def mask_url(url: str) -> str:
    """A URL with its password (``user:password@``) masked."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}{MASK}", url)


def mask_document(document: Any) -> Any:
    """A copy of a JSON value with every secret field masked, at any depth (iterative)."""
    if not isinstance(document, dict | list):
        return document
    root: Any = {} if isinstance(document, dict) else []
    stack: list[tuple[Any, Any]] = [(document, root)]
    while stack:
        source, target = stack.pop()
        items = source.items() if isinstance(source, dict) else enumerate(source)
        for key, value in items:
            if isinstance(source, dict) and key in SECRET_FIELDS and value is not None:
                copied: Any = MASK
            elif isinstance(value, dict | list):
                copied = {} if isinstance(value, dict) else []
                stack.append((value, copied))
            else:
                copied = value
            if isinstance(target, dict):
                target[key] = copied
            else:
                target.append(copied)
    return root


def string_leaves(document: Any) -> set[str]:
    """Every string in a JSON value (keys excepted), at any depth."""
    found: set[str] = set()
    stack = [document]
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return found


def hide_values(message: str, values: Iterable[str]) -> str:
    """``message`` with each of ``values`` (longest first) replaced by ``***``."""
    for value in sorted((v for v in values if v), key=len, reverse=True):
        message = message.replace(value, MASK)
    return mask_text(message)
