"""`python -m agent test [FILE ...]`: a bot's test conversations, played and checked step by step.

A test file (by default every `dialogs/tests/*.yaml` of the bot folder) holds
conversations written by the bot's author, each step a customer message and
what the reply must show:

    tests:
      - name: top-up fee, then by bank transfer
        steps:
          - user: "is there a fee if I top up with my card?"
            expect: {intent: top_up_by_card_charge}
          - user: "what about by bank transfer?"
            expect: {intent: top_up_by_bank_transfer_charge, source: [template, decoder], contains: ["free"]}

Every test is a fresh session and its steps run in order in it, so follow-ups
and answered questions are tested as a customer meets them. The store lives in
memory only: nothing a test says is kept, and the bot's own store is untouched.
A file that cannot be read as tests is a `ConfigError` naming its file and line,
before anything is trained.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

from agent.bot.folder import _line_of, _parse
from agent.bot.schemas import OOS
from agent.bot.text import has_words
from agent.exceptions import AgentError, ConfigError
from agent.pipeline.assemble import load_bot
from agent.pipeline.dialog import Agent
from agent.training.build import load_trained
from agent.types import Reply, Source

TESTS_DIR = "dialogs/tests"  # where a bot folder keeps its test conversations
SHAPE = 'tests: [{name: fee, steps: [{user: "is the card free?", expect: {intent: card_fee, contains: [free]}}]}]'
FACT = re.compile(r"^[^.\s]+\.[^.\s]+$")  # subject.attribute, as a reply's facts name them


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Expect(_Strict):
    """What one reply must show; a key left out is not checked."""

    intent: str | None = None
    source: list[Source] | None = None  # any of these
    contains: list[str] = []  # case-insensitive substrings of the reply's text
    not_contains: list[str] = []
    handoff: StrictBool | None = None
    facts: list[str] = []  # `subject.attribute` of graph facts the answer must have used
    out_of_scope: StrictBool | None = None

    @field_validator("source", "contains", "not_contains", "facts", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # `source: template` and `source: [template, decoder]` both read naturally.
        return [value] if isinstance(value, str) else value

    @field_validator("facts")
    @classmethod
    def _fact_names(cls, facts: list[str]) -> list[str]:
        for fact in facts:
            if not FACT.match(fact):
                raise ValueError(f"fact '{fact}' should be subject.attribute, e.g. card_plus.monthly_fee")
        return facts


class StepSpec(_Strict):
    user: str  # the customer's message
    expect: Expect = Expect()

    @field_validator("user")
    @classmethod
    def _words(cls, text: str) -> str:
        if not has_words(text):
            raise ValueError("the customer's message has no words")
        return text


class ConversationTest(_Strict):
    name: str
    steps: list[StepSpec] = Field(min_length=1)


class TestsFile(_Strict):
    tests: list[ConversationTest] = Field(min_length=1)


@dataclass(frozen=True)
class LoadedTests:
    """The tests of one file and where each step is written (1-based lines), for errors and reports."""

    path: str
    tests: list[ConversationTest]
    test_lines: list[int]
    step_lines: list[list[int]]


@dataclass(frozen=True)
class Mismatch:
    key: str
    expected: str
    got: str


@dataclass(frozen=True)
class StepResult:
    number: int  # 1-based within its test
    user: str
    line: int
    reply: Reply
    mismatches: list[Mismatch]

    @property
    def passed(self) -> bool:
        return not self.mismatches


@dataclass(frozen=True)
class ConversationResult:
    file: str
    name: str
    line: int
    steps: list[StepResult]
    seconds: float

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)

    @property
    def failed_steps(self) -> list[StepResult]:
        return [step for step in self.steps if not step.passed]


@dataclass
class ConversationTestRun:
    results: list[ConversationResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def steps(self) -> int:
        return sum(len(result.steps) for result in self.results)

    def as_dict(self) -> dict[str, object]:
        return {
            "tests": len(self.results),
            "steps": self.steps,
            "failed": sum(not r.passed for r in self.results),
            "results": [
                {
                    "file": r.file,
                    "name": r.name,
                    "line": r.line,
                    "passed": r.passed,
                    "failures": [
                        {
                            "step": s.number,
                            "line": s.line,
                            "user": s.user,
                            "reply": s.reply.text,
                            "reason": s.reply.reason,
                            "mismatches": [vars(m) for m in s.mismatches],
                        }
                        for s in r.failed_steps
                    ],
                }
                for r in self.results
            ],
        }


def find_test_files(bot_dir: Path, files: list[str]) -> list[Path]:
    """The files given, or the bot folder's `dialogs/tests/*.yaml`; none at all is an error."""
    if files:
        return [Path(f) for f in files]
    found = sorted([*(bot_dir / TESTS_DIR).glob("*.yaml"), *(bot_dir / TESTS_DIR).glob("*.yml")])
    here = Path.cwd()
    found = [p.relative_to(here) if p.is_relative_to(here) else p for p in found]  # shorter in reports
    if not found:
        raise ConfigError(
            f"{bot_dir / TESTS_DIR}: no test files (*.yaml) in bot folder '{bot_dir}'; write one, e.g. `{SHAPE}`, "
            "or name files to run."
        )
    return found


def read_tests(path: Path, intents: set[str]) -> LoadedTests:
    """The tests of `path`; an unreadable file, a wrong key or type, or an unknown intent is a one-line error."""
    name = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{name}: cannot be read ({exc.strerror or exc}).") from None
    parsed = _parse(name, raw, TestsFile, SHAPE)
    node = yaml.compose(raw.decode("utf-8"))  # parsed once already, so this cannot fail

    def line(*loc: str | int) -> int:
        return _line_of(node, list(loc)) or 1

    for i, test in enumerate(parsed.tests):
        for j, step in enumerate(test.steps):
            wanted = step.expect.intent
            if wanted is not None and wanted not in intents:
                known = ", ".join(sorted(intents)[:8])
                where = f"{name} line {line('tests', i, 'steps', j, 'expect', 'intent')}"
                raise ConfigError(
                    f"{where}: tests[{i}].steps[{j}].expect.intent (name '{test.name}'): '{wanted}' is not an "
                    f"intent of the bot (known: {known}, ...)."
                )
    return LoadedTests(
        path=name,
        tests=parsed.tests,
        test_lines=[line("tests", i) for i in range(len(parsed.tests))],
        step_lines=[[line("tests", i, "steps", j) for j in range(len(t.steps))] for i, t in enumerate(parsed.tests)],
    )


def run_tests(
    bot_dir: str | Path, files: list[str], *, decoder: bool = True, progress: bool = False
) -> ConversationTestRun:
    """Read every test file (all checked before training), then play each test in a fresh in-memory session."""
    bot = load_bot(bot_dir)
    intents = set(bot.intent_names(include_oos=True))
    loaded = [read_tests(path, intents) for path in find_test_files(bot.path, files)]
    # Nothing a test says is kept: the store is SQLite in memory, gone when the agent closes.
    agent = load_trained(bot.path, store_url="sqlite:///:memory:", decoder=decoder, progress=progress)
    run = ConversationTestRun()
    try:
        for tests in loaded:
            for k in range(len(tests.tests)):
                run.results.append(_play(agent, tests, k, f"test-{len(run.results) + 1}"))
    finally:
        agent.close()
    return run


def _play(agent: Agent, tests: LoadedTests, k: int, session: str) -> ConversationResult:
    test = tests.tests[k]
    started = time.perf_counter()
    steps = []
    for j, step in enumerate(test.steps):
        where = tests.step_lines[k][j]
        try:
            reply = agent.respond(session, step.user)
        except AgentError as exc:  # an over-long message, say: the file's mistake, at its line
            raise ConfigError(f"{tests.path} line {where}: tests[{k}].steps[{j}].user: {exc}") from None
        steps.append(StepResult(j + 1, step.user, where, reply, check(step.expect, reply)))
    return ConversationResult(tests.path, test.name, tests.test_lines[k], steps, time.perf_counter() - started)


def check(expect: Expect, reply: Reply) -> list[Mismatch]:
    """Every key of `expect` the reply does not satisfy."""
    wrong: list[Mismatch] = []
    if expect.intent is not None and reply.intent != expect.intent:
        wrong.append(Mismatch("intent", expect.intent, f"{reply.intent} ({reply.confidence:.2f})"))
    if expect.source is not None and reply.source not in expect.source:
        wrong.append(Mismatch("source", " or ".join(expect.source), reply.source))
    text = reply.text.casefold()
    missing = [s for s in expect.contains if s.casefold() not in text]
    if missing:
        wrong.append(Mismatch("contains", ", ".join(map(repr, missing)), "a reply without it"))
    present = [s for s in expect.not_contains if s.casefold() in text]
    if present:
        wrong.append(Mismatch("not_contains", f"a reply without {', '.join(map(repr, present))}", "a reply with it"))
    if expect.handoff is not None and reply.handoff != expect.handoff:
        wrong.append(Mismatch("handoff", str(expect.handoff).lower(), str(reply.handoff).lower()))
    used = [f"{fact.subject}.{fact.attribute}" for fact in reply.facts]
    absent = [f for f in expect.facts if f not in used]
    if absent:
        wrong.append(Mismatch("facts", ", ".join(absent), ", ".join(used) or "no facts"))
    out = reply.intent == OOS
    if expect.out_of_scope is not None and out != expect.out_of_scope:
        wrong.append(Mismatch("out_of_scope", str(expect.out_of_scope).lower(), f"{str(out).lower()} ({reply.intent})"))
    return wrong


def format_report(run: ConversationTestRun) -> str:
    """Each failing step with what was expected and what came, then one summary line."""
    lines: list[str] = []
    for result in run.results:
        if result.passed:
            continue
        lines.append(f"FAIL {result.file} line {result.line}: {result.name}")
        lines += [f"  {text}" for step in result.failed_steps for text in describe(step)]
    failed = sum(not r.passed for r in run.results)
    verdict = f"{failed} failed" if failed else "all passed"
    lines.append(f"{len(run.results)} tests, {run.steps} steps: {verdict}")
    return "\n".join(lines)


def describe(step: StepResult) -> list[str]:
    """A failed step in lines: its message, each key that failed (expected vs got), the reply and its reason."""
    out = [f"step {step.number} (line {step.line}): {step.user!r}"]
    out += [f"  {m.key}: expected {m.expected}, got {m.got}" for m in step.mismatches]
    out.append(f"  reply ({step.reply.source}): {step.reply.text!r}")
    out.append(f"  reason: {step.reply.reason}")
    return out
