"""The schema store: every contract schema, loaded once, each compiled on first use.

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
from typing import TYPE_CHECKING, Any

import jsonschema_rs

from simulator.core.errors import UnknownSchemaError, ValidationFailed, Violation

if TYPE_CHECKING:
    import jsonschema
    import referencing
    from jsonschema.exceptions import ValidationError

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
    from jsonschema.exceptions import best_match

    if error.context:
        best = best_match(error.context)
        return _leaf_errors(best)
    return [error]


class SchemaStore:
    """Validators for every ``*.schema.json`` in a directory, by name (file stem).

    Each engine compiles a schema the first time it is asked about it: a process that
    checks five kinds of bodies does not pay for forty-three, and the pure-Python engine
    (and its import, a fifth of the simulator's start-up) is paid for only when something
    fails and must be explained.
    """

    def __init__(
        self, schemas: Mapping[str, Mapping[str, Any]], *, check_schemas: bool = True
    ) -> None:
        """``check_schemas``: meta-validate every schema with the pure-Python engine now
        (its messages are the clearer); the compiled engine meta-validates each one anyway
        when it compiles it. The bundled store skips it: that pass was ~90 % of the store's
        build, i.e. of the simulator's start-up, and tests/test_validation.py meta-checks the
        bundled schemas in CI."""
        self._schemas = dict(schemas)
        self._uris = {name: SCHEMA_BASE_URI + name + _SUFFIX for name in self._schemas}
        self._rs_registry = jsonschema_rs.Registry(
            [(self._uris[name], dict(schema)) for name, schema in self._schemas.items()]
        )
        self._explainers: dict[str, jsonschema.Draft202012Validator] = {}
        self._registry: referencing.Registry[Any] | None = None
        self._deciders: dict[str, Any] = {}
        if check_schemas:
            import jsonschema

            for schema in self._schemas.values():
                jsonschema.Draft202012Validator.check_schema(schema)

    def compile(self, name: str) -> None:
        """Compile schema ``name`` with the deciding engine now (raises ``UnknownSchemaError``
        for an unknown name, the engine's error for a schema it cannot compile)."""
        self._decider(name)

    def prepare_explanations(self) -> None:
        """Import and set up the explaining engine now (it is otherwise set up by the first
        invalid instance: ~0.1 s, a pause the serving loop need not take; ``serve`` calls
        this in a thread after start)."""
        self._explainer(self.names[0])

    def _decider(self, name: str) -> Any:
        """The compiled engine's validator for ``name``, compiled on first use."""
        decider = self._deciders.get(name)
        if decider is None:
            self._known(name)
            decider = jsonschema_rs.Draft202012Validator(
                dict(self._schemas[name]),
                registry=self._rs_registry,
                validate_formats=True,
                base_uri=self._uris[name],
            )
            self._deciders[name] = decider
        return decider

    def _explainer(self, name: str) -> jsonschema.Draft202012Validator:
        """The pure-Python engine's validator for ``name``, built on first use."""
        explainer = self._explainers.get(name)
        if explainer is None:
            import jsonschema

            explainer = jsonschema.Draft202012Validator(
                self._schemas[name],
                registry=self._explaining_registry(),
                format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
            )
            self._explainers[name] = explainer
        return explainer

    def _explaining_registry(self) -> referencing.Registry[Any]:
        """Every schema as a resource of the pure-Python engine, built once."""
        if self._registry is None:
            import referencing
            from referencing.jsonschema import DRAFT202012

            self._registry = referencing.Registry().with_resources(
                (self._uris[name], DRAFT202012.create_resource(schema))
                for name, schema in self._schemas.items()
            )
        return self._registry

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
        return bool(self._decider(name).is_valid(instance))

    def violations(self, name: str, instance: Any) -> list[Violation]:
        """Every violation of ``instance`` against schema ``name``; empty when valid.

        The compiled verdict first (the engines agree on JSON documents: a differential
        test holds them to it on the whole corpus); the explaining engine only for an
        invalid instance, and when it finds nothing the compiled engine's own errors are
        reported."""
        decider = self._decider(name)
        if decider.is_valid(instance):
            return []
        found: list[Violation] = []
        for error in self._explainer(name).iter_errors(instance):
            for leaf in _leaf_errors(error):
                found.append(Violation(pointer_of(leaf.absolute_path), leaf.message))
        if not found:
            found = [
                Violation(pointer_of(e.instance_path), e.message)
                for e in decider.iter_errors(instance)
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
    """The store of the schemas shipped inside the package (one per process; each schema is
    compiled on first use)."""
    return SchemaStore.from_directory(_bundled_directory(), check_schemas=False)
