"""A tiny JUnit XML writer (the de-facto format CI servers read), shared by the CLI commands.

Pure up to :func:`write_junit`, which is the only function that touches the file system.
The layout is the common denominator that Jenkins, GitLab, GitHub test reporters and
pytest's own ``--junitxml`` agree on::

    <testsuites name tests failures errors skipped time>
      <testsuite name tests failures errors skipped time timestamp>
        <properties><property name value/>...</properties>
        <testcase classname name time>
          <failure message type>details</failure>   (or <error .../>, or <skipped message/>)
          <system-out>...</system-out>
        </testcase>
      </testsuite>
    </testsuites>
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from simulator.core.errors import FileError

__all__ = ["JUnitCase", "check_writable", "junit_bytes", "junit_tree", "write_junit"]

# Characters XML 1.0 cannot carry even escaped. Receiver answers end up in failure texts,
# and one stray control byte would make the whole report unreadable to the CI server.
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("\ufffd", value)


@dataclass(frozen=True, slots=True)
class JUnitCase:
    """One ``<testcase>``. At most one of ``failure``, ``error`` and ``skipped`` is set."""

    name: str
    classname: str
    seconds: float = 0.0
    #: a failed expectation: the short message (``message`` attribute)
    failure: str | None = None
    #: the test could not be judged (e.g. the receiver was unreachable)
    error: str | None = None
    #: the test was not run, and why
    skipped: str | None = None
    #: longer text for the failure/error element body
    details: str = ""
    #: goes to ``<system-out>``
    output: str = ""


def _count(cases: Sequence[JUnitCase]) -> dict[str, str]:
    return {
        "tests": str(len(cases)),
        "failures": str(sum(c.failure is not None for c in cases)),
        "errors": str(sum(c.error is not None and c.failure is None for c in cases)),
        "skipped": str(
            sum(c.skipped is not None and c.failure is None and c.error is None for c in cases)
        ),
        "time": f"{sum(c.seconds for c in cases):.3f}",
    }


def junit_tree(
    suite: str,
    cases: Sequence[JUnitCase],
    *,
    timestamp: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> ET.ElementTree[ET.Element]:
    """The report as an element tree: one ``<testsuite>`` called ``suite`` holding ``cases``.

    ``timestamp`` (ISO 8601) and ``properties`` are written on the suite when given.
    """
    counts = _count(cases)
    root = ET.Element("testsuites", {"name": _text(suite), **counts})
    attributes = {"name": _text(suite), **counts}
    if timestamp is not None:
        attributes["timestamp"] = timestamp
    element = ET.SubElement(root, "testsuite", attributes)
    if properties:
        props = ET.SubElement(element, "properties")
        for key, value in properties.items():
            ET.SubElement(props, "property", {"name": _text(key), "value": _text(value)})
    for case in cases:
        node = ET.SubElement(
            element,
            "testcase",
            {
                "classname": _text(case.classname),
                "name": _text(case.name),
                "time": f"{case.seconds:.3f}",
            },
        )
        if case.failure is not None:
            fail = ET.SubElement(
                node, "failure", {"message": _text(case.failure), "type": "failure"}
            )
            fail.text = _text(case.details or case.failure)
        elif case.error is not None:
            err = ET.SubElement(node, "error", {"message": _text(case.error), "type": "error"})
            err.text = _text(case.details or case.error)
        elif case.skipped is not None:
            ET.SubElement(node, "skipped", {"message": _text(case.skipped)})
        if case.output:
            out = ET.SubElement(node, "system-out")
            out.text = _text(case.output)
    ET.indent(root)
    return ET.ElementTree(root)


def junit_bytes(
    suite: str,
    cases: Sequence[JUnitCase],
    *,
    timestamp: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> bytes:
    """The report as UTF-8 XML bytes with an XML declaration and a final newline."""
    tree = junit_tree(suite, cases, timestamp=timestamp, properties=properties)
    data: bytes = ET.tostring(tree.getroot(), encoding="utf-8", xml_declaration=True)
    return data + b"\n"


def check_writable(path: str | Path) -> None:
    """Refuse, before anything runs, a report path that could not be written at the end
    (a missing or read-only directory, a directory in its place): a :class:`FileError`.

    Probes by opening the file for appending, which is what the OS will judge (an
    ``os.access`` check is always true for root); a file that did not exist is removed again.
    """
    target = Path(path)
    if target.is_dir():
        raise FileError(str(path), None, "cannot write the JUnit report: it is a directory")
    existed = target.exists()
    try:
        with target.open("ab"):
            pass
    except OSError as exc:
        raise FileError(
            str(path), None, f"cannot write the JUnit report: {exc.strerror or exc}"
        ) from None
    if not existed:
        target.unlink(missing_ok=True)


def write_junit(
    path: str | Path,
    suite: str,
    cases: Sequence[JUnitCase],
    *,
    timestamp: str | None = None,
    properties: Mapping[str, str] | None = None,
) -> None:
    """Write the report to ``path``; an unwritable path is a :class:`FileError`."""
    data = junit_bytes(suite, cases, timestamp=timestamp, properties=properties)
    try:
        Path(path).write_bytes(data)
    except OSError as exc:
        raise FileError(
            str(path), None, f"cannot write the JUnit report: {exc.strerror or exc}"
        ) from None
