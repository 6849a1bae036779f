"""JUnit XML of a conversation test run (`python -m agent test --junit OUT.xml`), for CI dashboards.

One `<testsuite>` per test file and one `<testcase>` per test conversation; a
failing conversation's `<failure>` message lists its failed steps and its text
holds each step's details, as the terminal report prints them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from agent.eval.convtests import ConversationResult, ConversationTestRun, describe
from agent.exceptions import ConfigError


def junit_xml(run: ConversationTestRun) -> ET.ElementTree:
    """The run as a JUnit `<testsuites>` tree."""
    root = ET.Element("testsuites", name="conversation tests")
    by_file: dict[str, list[ConversationResult]] = {}
    for result in run.results:
        by_file.setdefault(result.file, []).append(result)
    for file, results in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file,
            tests=str(len(results)),
            failures=str(sum(not r.passed for r in results)),
            errors="0",
            time=f"{sum(r.seconds for r in results):.3f}",
        )
        for result in results:
            case = ET.SubElement(
                suite, "testcase", classname=Path(file).stem, name=result.name, time=f"{result.seconds:.3f}"
            )
            if result.passed:
                continue
            failed = result.failed_steps
            message = "; ".join(
                f"step {s.number}: {', '.join(m.key for m in s.mismatches)} ({s.user!r})" for s in failed
            )
            failure = ET.SubElement(case, "failure", message=message, type="ConversationMismatch")
            failure.text = "\n".join(line for step in failed for line in describe(step))
    root.set("tests", str(len(run.results)))
    root.set("failures", str(sum(not r.passed for r in run.results)))
    return ET.ElementTree(root)


def write_junit(run: ConversationTestRun, path: str | Path) -> None:
    """Write the run's JUnit XML to `path` (its folder is created)."""
    out = Path(path)
    tree = junit_xml(run)
    ET.indent(tree)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tree.write(out, encoding="utf-8", xml_declaration=True)
    except OSError as exc:
        raise ConfigError(f"--junit {out}: cannot be written ({exc.strerror or exc}).") from None
