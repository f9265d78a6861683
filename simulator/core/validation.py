"""The schema store: every contract schema, loaded and compiled once.

Two engines, one verdict. ``jsonschema-rs`` (compiled) decides valid/invalid on the hot
path; the pure-Python ``jsonschema`` explains a failure as every violation with its JSON
pointer. Both run draft 2020-12 with format checking on. A differential test proves they
agree on the whole corpus; if they ever disagree on an instance, the explanation falls back
to the compiled engine's own errors so that nothing invalid is reported as "no violations".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import referencing
from jsonschema.exceptions import ValidationError, best_match
from referencing.jsonschema import DRAFT202012

from simulator.core.errors import UnknownSchemaError, ValidationFailed, Violation

__all__ = ["SCHEMA_BASE_URI", "SchemaStore", "default_store", "pointer_of"]

#: Every schema's ``$id`` is ``SCHEMA_BASE_URI + NAME + ".schema.json"``; the ``.invalid``
#: TLD guarantees nothing is ever fetched from it.
SCHEMA_BASE_URI = "https://schemas.aicc-simulator.invalid/"
_SUFFIX = ".schema.json"


def pointer_of(path: Iterable[str | int]) -> str:
    """RFC 6901 JSON pointer for a path of keys and indexes ("" is the document root)."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _leaf_errors(error: ValidationError) -> list[ValidationError]:
    """For anyOf/oneOf failures, the most relevant error of the branches, not the summary."""
    if error.context:
        best = best_match(error.context)
        return _leaf_errors(best)
    return [error]


class SchemaStore:
    """Compiled validators for every ``*.schema.json`` in a directory, by name (file stem)."""

    def __init__(
        self, schemas: Mapping[str, Mapping[str, Any]], *, check_schemas: bool = True
    ) -> None:
        """``check_schemas``: meta-validate every schema with the pure-Python engine first
        (its messages are the clearer); the compiled engine meta-validates them anyway.
        The bundled store skips it: that pass was ~90 % of the store's build, i.e. of the
        simulator's start-up, and tests/test_schemas_contract.py meta-checks the bundled
        schemas in CI."""
        self._schemas = dict(schemas)
        uris = {name: SCHEMA_BASE_URI + name + _SUFFIX for name in self._schemas}
        registry: referencing.Registry[Any] = referencing.Registry().with_resources(
            (uris[name], DRAFT202012.create_resource(schema))
            for name, schema in self._schemas.items()
        )
        rs_registry = jsonschema_rs.Registry(
            [(uris[name], dict(schema)) for name, schema in self._schemas.items()]
        )
        checker = jsonschema.Draft202012Validator.FORMAT_CHECKER
        self._explainers: dict[str, jsonschema.Draft202012Validator] = {}
        self._deciders: dict[str, Any] = {}
        for name, schema in self._schemas.items():
            if check_schemas:
                jsonschema.Draft202012Validator.check_schema(schema)
            self._explainers[name] = jsonschema.Draft202012Validator(
                schema, registry=registry, format_checker=checker
            )
            self._deciders[name] = jsonschema_rs.Draft202012Validator(
                dict(schema), registry=rs_registry, validate_formats=True, base_uri=uris[name]
            )

    @classmethod
    def from_directory(cls, directory: Path, *, check_schemas: bool = True) -> SchemaStore:
        """Load every ``NAME.schema.json`` below ``directory``."""
        schemas = {
            path.name[: -len(_SUFFIX)]: json.loads(path.read_text(encoding="utf-8"))
            for path in sorted(directory.glob("*" + _SUFFIX))
        }
        return cls(schemas, check_schemas=check_schemas)

    @property
    def names(self) -> tuple[str, ...]:
        """The known schema names, sorted."""
        return tuple(sorted(self._schemas))

    def schema(self, name: str) -> Mapping[str, Any]:
        """The raw schema document called ``name``."""
        self._known(name)
        return self._schemas[name]

    def _known(self, name: str) -> None:
        if name not in self._schemas:
            raise UnknownSchemaError(name, self.names)

    def is_valid(self, name: str, instance: Any) -> bool:
        """Fast verdict by the compiled engine."""
        self._known(name)
        return bool(self._deciders[name].is_valid(instance))

    def violations(self, name: str, instance: Any) -> list[Violation]:
        """Every violation of ``instance`` against schema ``name``; empty when valid."""
        self._known(name)
        found: list[Violation] = []
        for error in self._explainers[name].iter_errors(instance):
            for leaf in _leaf_errors(error):
                found.append(Violation(pointer_of(leaf.absolute_path), leaf.message))
        if not found and not self._deciders[name].is_valid(instance):
            found = [
                Violation(pointer_of(e.instance_path), e.message)
                for e in self._deciders[name].iter_errors(instance)
            ]
        return sorted(set(found), key=lambda v: (v.pointer, v.message))

    def check(self, name: str, instance: Any) -> None:
        """Raise :class:`ValidationFailed` with every violation unless ``instance`` is valid."""
        if not self.is_valid(name, instance):
            raise ValidationFailed(name, self.violations(name, instance))


def _bundled_directory() -> Path:
    return Path(str(resources.files("simulator.core") / "schemas"))


@cache
def default_store() -> SchemaStore:
    """The store of the schemas shipped inside the package (compiled once per process)."""
    return SchemaStore.from_directory(_bundled_directory(), check_schemas=False)
