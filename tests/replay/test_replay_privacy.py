"""Replay writes no personal data in clear: results.jsonl, report.json and report.html are masked as its store is."""

from __future__ import annotations

import json
import re
from pathlib import Path

from known_log import agent, customer

from agent.bot.schemas import LoggedConversation
from agent.eval.conversations import evaluate_conversations, format_report
from agent.replay.command import ReplayOptions, run_replay
from agent.replay.results import ResultsFile, TurnResult, read_results
from agent.replay.runner import session_id_for
from agent.storage.conversation_log import write_jsonl
from agent.storage.store import Store

# What customers give away, as they type it; none of it may reach a file replay writes.
CLEAR = {
    "iban": "GB82 WEST 1234 5698 7654 32",
    "iban_de": "DE89370400440532013000",
    "card_dots": "4111.1111.1111.1111",
    "card_slashes": "5500/0000/0000/0004",
    "card_dashes": "3782-822463-10005",
    "email": "ann.lee@example.com",
    "phone": "07911 123456",
    "birth": "12/03/1985",
    "password": "hunter2",
    "pin": "4821",
    "cvv": "937",
}
# Gold labels the bot will not give, so each turn is listed as a confusion, with its text, in the report.
LOG = [
    LoggedConversation(
        conversation_id="pii-card",
        turns=[
            customer(f"my card {CLEAR['card_dots']} was stolen, write to {CLEAR['email']}", "greeting"),
            agent(f"We have blocked it and will write to {CLEAR['email']}; call us on 020 7946 0958."),
            customer(f"the other card is {CLEAR['card_slashes']} and the amex {CLEAR['card_dashes']}", "greeting"),
        ],
    ),
    LoggedConversation(
        conversation_id="pii-transfer",
        turns=[
            customer(f"I sent £1,234.56 to {CLEAR['iban']} and to {CLEAR['iban_de']}, is it there?", "greeting"),
            customer(f"my password is {CLEAR['password']}, pin {CLEAR['pin']}, cvv {CLEAR['cvv']}", "greeting"),
            customer(f"I was born on {CLEAR['birth']}, call me on {CLEAR['phone']}", "greeting"),
        ],
    ),
]
# The same turns masked, as the replay store keeps them.
MASKED = [
    "my card [card] was stolen, write to [email]",
    "the other card is [card] and the amex [card]",
    "I sent £1,234.56 to [iban] and to [iban], is it there?",
    "my password is [secret], pin [secret], cvv [secret]",
    "I was born on [dob], call me on [phone]",
]


# The report's plots are base64 PNGs, whose letters and digits may spell "937" by chance: they are not text.
EMBEDDED_IMAGE = re.compile(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+")


def clear_in(text: str) -> list[str]:
    """The kinds of personal data `text` holds in clear (also as the report's JSON or HTML escapes them).

    A value counts only as a whole token, so a latency of 23.937 ms or a timestamp's microseconds are not the CVV 937.
    """
    text = EMBEDDED_IMAGE.sub("", text)
    return [
        kind
        for kind, value in CLEAR.items()
        if any(re.search(rf"(?<![\w.:]){re.escape(form)}(?![\w])", text) for form in (value, json.dumps(value)[1:-1]))
    ]


def test_replay_results_and_reports_are_masked_like_its_store(demo_bot_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    write_jsonl(LOG, log)
    # A previous run written unmasked (as before masking), so --compare lists every turn as changed.
    previous = tmp_path / "previous"
    old = ResultsFile(previous)
    old.open(resume=False)
    rows = []
    for conv in LOG:
        turns = conv.customer_turns()
        rows.append(
            [
                TurnResult(
                    conversation_id=conv.conversation_id,
                    turn=turn.index,
                    customer_turn=k,
                    customer_turns=len(turns),
                    text=turn.text,
                    gold_intent=turn.gold_intent,
                    intent="greeting",
                    source="template",
                    reply=f"You said: {turn.text}",  # an old reply repeating the customer's data
                )
                for k, turn in enumerate(turns)
            ]
        )
    old.write(rows)
    old.close()

    out = tmp_path / "run"
    options = ReplayOptions(input=str(log), out=out, bot=str(demo_bot_dir), progress=False, compare=previous)
    outcome = run_replay(options, warn=lambda line: None)
    assert outcome.report is not None

    results = list(read_results(out))
    assert [row.text for row in results] == MASKED
    assert results[0].logged_reply == "We have blocked it and will write to [email]; call us on [phone]."
    for name in ("results.jsonl", "report.json", "report.html"):
        assert clear_in((out / name).read_text(encoding="utf-8")) == [], name
    report = outcome.report
    examples = [confusion["example"] for confusion in report["intents"]["confusions"]]  # one per (gold, read as)
    assert examples and set(examples) <= set(MASKED)
    assert sorted(turn["text"] for turn in report["slowest_turns"]) == sorted(MASKED)
    listed = report["changes"]["turns"]
    assert len(listed) == 5 and all(change["previous"]["reply"].startswith("You said: ") for change in listed)
    assert "[iban]" in (out / "report.html").read_text(encoding="utf-8")

    # The masked forms are the store's: the replay store holds the same customer texts.
    store = Store(f"sqlite:///{out / 'replay.db'}")
    try:
        stored = [
            turn.text
            for conv in LOG
            for turn in store.conversation(session_id_for(conv.conversation_id)).turns  # type: ignore[union-attr]
            if turn.role == "customer"
        ]
    finally:
        store.close()
    assert stored == MASKED


def test_eval_conversations_prints_masked_turns(demo_bot_dir: Path, tmp_path: Path) -> None:
    log = tmp_path / "labelled.jsonl"
    write_jsonl(LOG, log)
    report = evaluate_conversations(log, demo_bot_dir)
    printed = format_report(report, log)
    assert "[card]" in printed and clear_in(printed) == []
    assert clear_in(" ".join(row.model_dump_json() for row in report.rows)) == []
