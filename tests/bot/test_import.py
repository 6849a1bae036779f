"""`import`: a company's labelled messages and FAQ into a bot folder: idempotent, comments kept, never half-done."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml

from agent.bot import small_talk
from agent.bot.importing.messages import DRAFT, HELDOUT
from agent.bot.pages import read_passages
from agent.bot.scaffold import init_bot
from agent.cli import main
from agent.pipeline.assemble import load_bot

TRACK = [
    "where is my order?",
    "has my parcel shipped yet",
    "when will my package arrive",
    "track my order please",
    "my delivery hasn't come",
]
REFUND = ["I want my money back", "how do I get a refund"]


@pytest.fixture()
def bot(tmp_path: Path) -> Path:
    folder = tmp_path / "bot"
    init_bot(folder, name="Shop help")
    return folder


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_import(capsys: pytest.CaptureFixture[str], source: Path, bot: Path, *options: str) -> tuple[int, str, str]:
    code = main(["import", str(source), "--bot", str(bot), *options])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def intents(bot: Path) -> dict[str, list[str]]:
    data = yaml.safe_load((bot / "knowledge/intents.yaml").read_text())
    return {entry["name"]: entry["examples"] for entry in data["intents"]}


def responses(bot: Path) -> dict[str, list[dict]]:
    return yaml.safe_load((bot / "dialogs/responses.yaml").read_text())["responses"]


def heldout(bot: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((bot / HELDOUT).open(newline="", encoding="utf-8")))


def test_examples_per_intent_with_the_rest_held_out(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [[t, "track_order"] for t in TRACK] + [[t, "refund"] for t in REFUND]
    code, out, _ = run_import(capsys, write_csv(tmp_path / "m.csv", ["text", "label"], rows), bot, "--cap", "3")
    assert code == 0
    assert "added 2 new intents, 5 examples, 2 held out" in out and "new intents: track_order, refund" in out
    found = intents(bot)
    assert list(found) == ["track_order", "refund"]
    assert len(found["track_order"]) == 3 and sorted(found["refund"]) == sorted(REFUND)
    held = heldout(bot)
    assert [r["label"] for r in held] == ["track_order", "track_order"]
    assert sorted(found["track_order"] + [r["text"] for r in held]) == sorted(TRACK)
    # Which examples are kept does not depend on the file's order.
    other = tmp_path / "other"
    init_bot(other, name="Other")
    run_import(capsys, write_csv(tmp_path / "r.csv", ["text", "label"], rows[::-1]), other, "--cap", "3")
    assert set(intents(other)["track_order"]) == set(found["track_order"])
    # An intent without replies gets a draft template that is never sent, and the bot still loads.
    templates = yaml.safe_load((bot / "dialogs/templates.yaml").read_text())["templates"]
    assert templates == {"track_order": {"text": DRAFT}, "refund": {"text": DRAFT}}
    assert "2 intents have no reply yet (track_order, refund)" in out
    assert set(load_bot(bot).intent_names()) >= {"track_order", "refund", "greeting", "human_handoff"}


def test_the_cap_counts_the_examples_already_there(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_import(capsys, write_csv(tmp_path / "a.csv", ["text", "label"], [[t, "track_order"] for t in TRACK[:2]]), bot)
    more = write_csv(tmp_path / "b.csv", ["text", "label"], [[t, "track_order"] for t in TRACK])
    code, out, _ = run_import(capsys, more, bot, "--cap", "3")
    assert code == 0 and "added 0 new intents, 1 examples, 2 held out" in out and "2 duplicates dropped" in out
    assert len(intents(bot)["track_order"]) == 3 and len(heldout(bot)) == 2


def test_importing_again_changes_nothing(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [[t, "Track Order", "You can follow it under Orders."] for t in TRACK]
    rows += [[t, "refund", f"Refund reply {i}"] for i, t in enumerate(REFUND)]
    source = write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows)
    assert run_import(capsys, source, bot, "--cap", "2")[0] == 0
    before = snapshot(bot)
    assert {"knowledge/heldout.csv", "dialogs/responses.yaml"} <= set(before)
    code, out, _ = run_import(capsys, source, bot, "--cap", "2")
    assert code == 0
    assert "added 0 new intents, 0 examples, 0 held out" in out and "0 replies (+0 past messages" in out
    assert f"{len(rows)} duplicates dropped" in out and "nothing to change" in out
    assert snapshot(bot) == before


def test_bad_rows_are_skipped_with_their_line_numbers(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "m.csv"
    source.write_text(
        "text,label\n"
        "where is my order?,track_order\n"  # line 2
        "no label here,\n"  # line 3
        '"a message over\ntwo lines",track_order\n'  # lines 4-5
        "\n"  # line 6: blank, ignored
        "too,many,cells\n"  # line 7
        ",refund\n"  # line 8
        "what?,!!!\n"  # line 9
        "has my parcel shipped yet,track_order\n",  # line 10
        encoding="utf-8",
    )
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0
    assert (
        "4 rows skipped: line 3: no `label`; line 7: 3 cells for 2 columns; line 8: no `text`; "
        "line 9: label '!!!' has no letters or digits"
    ) in out
    found = intents(bot)
    assert list(found) == ["track_order"]
    assert sorted(found["track_order"]) == sorted(
        ["where is my order?", "a message over\ntwo lines", "has my parcel shipped yet"]
    )


def test_labels_become_intent_names(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        ["where is my order?", "Track Order", "Follow it under Orders."],
        ["has it shipped", "track-order", "Follow it under Orders."],
        ["book me a flight", "out_of_scope", "We only sell shoes."],
        ["tell me a joke", "Out of Scope", ""],
        ["what's the weather", "OOS", ""],
    ]
    code, out, _ = run_import(capsys, write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows), bot)
    assert code == 0
    assert "label 'Track Order' -> intent track_order" in out and "label 'out_of_scope' -> intent oos" in out
    assert "label 'Out of Scope' -> intent oos" in out and "label 'OOS' -> intent oos" in out
    found = intents(bot)
    assert list(found) == ["track_order", "oos"]
    assert sorted(found["track_order"]) == ["has it shipped", "where is my order?"]
    # The imported out-of-scope messages join the built-in ones they replace (agent/bot/small_talk.py).
    imported = ["book me a flight", "tell me a joke", "what's the weather"]
    assert set(imported) <= set(found["oos"]) and set(small_talk.EXAMPLES["oos"]) <= set(found["oos"])
    # Out-of-scope messages teach the classifier what to refuse: no replies, no draft template.
    assert list(responses(bot)) == ["track_order"]
    assert "oos" not in yaml.safe_load((bot / "dialogs/templates.yaml").read_text())["templates"]
    assert "oos" in load_bot(bot).intent_names(include_oos=True)


def test_labels_and_messages_yaml_would_read_as_booleans_stay_strings(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # CLINC150 has intents named yes, no and maybe; PyYAML reads a plain `no` as False.
    rows = [
        ["yes", "yes", "Great, done."],
        ["yes please", "yes", "Great, done."],
        ["no", "no", "Okay, I won't."],
        ["nope", "no", "Okay, I won't."],
        ["off", "maybe", "Take your time."],
        ["1.5", "maybe", "Take your time."],
    ]
    code, _, err = run_import(capsys, write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows), bot)
    assert code == 0, err
    found = intents(bot)
    assert sorted(found["yes"]) == ["yes", "yes please"] and sorted(found["no"]) == ["no", "nope"]
    assert sorted(found["maybe"]) == ["1.5", "off"]
    assert {"yes", "no", "maybe"} <= set(responses(bot))
    assert {"yes", "no", "maybe"} <= set(load_bot(bot).intent_names())


def test_identical_replies_are_one_response(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        [TRACK[0], "track_order", "You can follow it under Orders."],
        [TRACK[1], "track_order", "you can follow it   under Orders."],
        [TRACK[2], "track_order", "It ships within two days."],
    ]
    code, out, _ = run_import(capsys, write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows), bot)
    assert code == 0 and "2 replies (+3 past messages choosing them)" in out
    assert responses(bot) == {
        "track_order": [
            {"text": "You can follow it under Orders.", "answers": [TRACK[0], TRACK[1]]},
            {"text": "It ships within two days.", "answers": [TRACK[2]]},
        ]
    }
    assert "no reply yet" not in out and not yaml.safe_load((bot / "dialogs/templates.yaml").read_text())["templates"]


REPLIES = [
    "You can follow your parcel under Orders in the app.",
    "Follow the parcel under Orders in the app, it shows each step.",
    "Parcels take two to three working days to arrive.",
    "Delivery takes two to three working days.",
    "Sorry it is late: we will send a new parcel today.",
]
MESSAGES = [
    "how do I track my parcel",
    "where can I follow the parcel",
    "how long does delivery take",
    "when will it arrive",
    "my parcel is late",
]


def test_more_replies_than_wanted_are_reduced_to_representatives(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [[m, "track_order", r] for m, r in zip(MESSAGES, REPLIES, strict=True)]
    source = write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows)
    code, out, _ = run_import(capsys, source, bot, "--responses-per-intent", "3")
    assert code == 0 and "3 replies (+5 past messages choosing them)" in out
    kept = responses(bot)["track_order"]
    texts = [spec["text"] for spec in kept]
    # One reply of each kind: following the parcel (0, 1), delivery times (2, 3), a late parcel (4).
    assert len(texts) == 3 and len({REPLIES[0], REPLIES[1]} & set(texts)) == 1
    assert len({REPLIES[2], REPLIES[3]} & set(texts)) == 1 and REPLIES[4] in texts
    assert texts == sorted(texts, key=REPLIES.index)  # in the file's order
    # Every message chooses a kept reply: its own when kept, else the kept one of its kind.
    assert sorted(a for spec in kept for a in spec["answers"]) == sorted(MESSAGES)
    owner = {a: spec["text"] for spec in kept for a in spec["answers"]}
    for message, reply in zip(MESSAGES, REPLIES, strict=True):
        assert owner[message] == reply if reply in texts else owner[message] != reply
    assert owner[MESSAGES[0]] == owner[MESSAGES[1]] and owner[MESSAGES[2]] == owner[MESSAGES[3]]
    load_bot(bot)


def test_each_reply_keeps_at_most_the_answers_asked_for(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [[m, "track_order", "Follow it under Orders."] for m in MESSAGES]
    source = write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows)
    code, out, _ = run_import(capsys, source, bot, "--answers-per-response", "2")
    assert code == 0 and "1 replies (+2 past messages choosing them)" in out
    (spec,) = responses(bot)["track_order"]
    assert len(spec["answers"]) == 2 and set(spec["answers"]) <= set(MESSAGES)
    assert len(intents(bot)["track_order"]) == 5  # examples are not capped by it


def test_replies_without_words_are_imported(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [[TRACK[0], "thanks_reply", "👍"], [TRACK[1], "thanks_reply", "🙂"], [TRACK[2], "thanks_reply", "!"]]
    source = write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows)
    code, _, err = run_import(capsys, source, bot, "--responses-per-intent", "2")
    assert code == 0, err
    kept = responses(bot)["thanks_reply"]
    assert [spec["text"] for spec in kept] == ["👍", "🙂"]
    assert sorted(a for spec in kept for a in spec["answers"]) == sorted(TRACK[:3])


def test_a_label_whose_messages_all_belong_to_another_intent_adds_no_replies(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = [[TRACK[0], "track_order", "Follow it under Orders."], [TRACK[0], "shipping", "We ship in two days."]]
    code, out, err = run_import(capsys, write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows), bot)
    assert code == 0, err
    assert "1 duplicates dropped" in out and list(responses(bot)) == ["track_order"]
    assert "shipping" not in intents(bot)


def test_unmapped_placeholders_are_listed(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        [TRACK[0], "track_order", "Your order {{Order Number}} is on its way; quote {{Order Number}} if you call."],
        [TRACK[1], "track_order", "Order {{ order number }} left the warehouse."],
        ["what is your phone number", "contact", "Call {{Customer Support Phone Number}}."],
        ["what are your hours", "contact", "We are open {{Store Hours}}."],
    ]
    source = write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows)
    config = (bot / "bot.yaml").read_text()
    (bot / "bot.yaml").write_text(config.replace("placeholders: {}", 'placeholders:\n  store  hours: {text: "9-17"}'))
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0
    # One marker whatever its case and spacing, and a mapped one is not listed.
    assert (
        "  2 placeholders not mapped in bot.yaml `placeholders` (a reply holding one is never sent): "
        "{{Customer Support Phone Number}} (1 replies), {{Order Number}} (2 replies)\n"
    ) in out


def test_dry_run_writes_nothing(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [[t, "track_order", "Follow it under Orders."] for t in TRACK]
    source = write_csv(tmp_path / "m.csv", ["text", "label", "response"], rows)
    before = snapshot(bot)
    code, out, _ = run_import(capsys, source, bot, "--dry-run", "--cap", "2")
    assert code == 0
    assert "would add 1 new intents, 2 examples, 3 held out" in out and "1 replies (+5 past messages" in out
    assert snapshot(bot) == before
    faq = write_csv(tmp_path / "faq.csv", ["question", "answer"], [["When are you open?", "9-17."]])
    code, out, _ = run_import(capsys, faq, bot, "--dry-run")
    assert code == 0 and "would add 1 FAQ entries" in out
    assert snapshot(bot) == before


def test_faq_import(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [
        ["When are you open?", "Every day from 9 to 17.", "", "opening hours | when do you open|"],
        ["  when ARE you   open? ", "A duplicate.", "", ""],
        ["When are you open!", "Another question with the same words.", "", ""],
        [
            "How do I call you?",
            "Call {{Customer Support Phone Number}} ({{customer support phone number}}).",
            "call-us",
            "",
        ],
        ["Another question", "Its id is taken.", "call-us", ""],
        ["Bad id", "Skipped.", "Bad Id!", ""],
        ["", "No question.", "", ""],
    ]
    source = write_csv(tmp_path / "faq.csv", ["question", "answer", "id", "alternatives"], rows)
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0
    assert "added 3 FAQ entries; 2 duplicates dropped" in out
    assert (
        "2 rows skipped: line 7: id 'Bad Id!' is not lowercase letters, digits and dashes; line 8: no `question`" in out
    )
    assert "1 placeholders not mapped" in out and "{{Customer Support Phone Number}} (1 replies)" in out
    faqs = yaml.safe_load((bot / "knowledge/faq.yaml").read_text())["faqs"]
    assert faqs == [
        {
            "id": "when-are-you-open",
            "question": "When are you open?",
            "alternatives": ["opening hours", "when do you open"],
            "answer": "Every day from 9 to 17.",
        },
        {
            "id": "when-are-you-open-2",
            "question": "When are you open!",
            "answer": "Another question with the same words.",
        },
        {
            "id": "call-us",
            "question": "How do I call you?",
            "answer": "Call {{Customer Support Phone Number}} ({{customer support phone number}}).",
        },
    ]
    assert [e.id for e in load_bot(bot).faq.faqs] == ["when-are-you-open", "when-are-you-open-2", "call-us"]
    before = snapshot(bot)
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0 and "added 0 FAQ entries; 5 duplicates dropped" in out and "nothing to change" in out
    assert snapshot(bot) == before


def test_faq_rows_without_letters_or_digits_are_skipped(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 19: a phrasing the encoder reads as "[UNK]" would answer every message of emoji.
    rows = [["\u0378", "Gotcha."], ["When are you open?", "9-17.", "hours | 🕐"], ["Where are you?", "Here."]]
    source = write_csv(tmp_path / "faq.csv", ["question", "answer", "alternatives"], rows)
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0 and "added 1 FAQ entries" in out
    assert "line 2: question '\\u0378' has no letter or digit" in out  # shown escaped: it has no glyph
    assert "line 3: alternative '🕐' has no letter or digit" in out
    assert [e.id for e in load_bot(bot).faq.faqs] == ["where-are-you"]


def test_a_file_with_other_columns_is_refused(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(bot)
    code, out, err = run_import(capsys, write_csv(tmp_path / "x.csv", ["Message", "Intent"], [["a", "b"]]), bot)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert "columns message, intent" in lines[0] and "text,label" in lines[0] and "question,answer" in lines[0]
    # ... which the options can name.
    code, out, _ = run_import(
        capsys, tmp_path / "x.csv", bot, "--text-column", "message", "--label-column", "intent", "--dry-run"
    )
    assert code == 0 and "would add 1 new intents, 1 examples" in out
    assert snapshot(bot) == before


def test_bad_numbers_and_files_are_refused(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write_csv(tmp_path / "m.csv", ["text", "label"], [["a", "b"]])
    code, _, err = run_import(capsys, source, bot, "--cap", "0")
    assert code == 2 and "--cap 0" in err
    (tmp_path / "m.txt").write_text("text,label\n")
    code, _, err = run_import(capsys, tmp_path / "m.txt", bot)
    assert code == 2 and err.startswith("error:") and "unknown kind of file" in err
    code, _, err = run_import(capsys, tmp_path / "missing.csv", bot)
    assert code == 2 and err.startswith("error:")
    code, _, err = run_import(capsys, source, tmp_path / "no-bot")
    assert code == 2 and "does not exist" in err


def test_jsonl_bad_lines_are_skipped(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "m.jsonl"
    source.write_text(
        json.dumps({"text": TRACK[0], "label": "Track Order", "response": "Follow it under Orders."})
        + "\n{not json\n"  # line 2
        + "\n"  # line 3: blank
        + "[1, 2]\n"  # line 4
        + json.dumps({"text": TRACK[1], "label": None})  # line 5
        + "\n"
        + json.dumps({"TEXT": TRACK[2], "Label": "track_order", "extra": 1})  # line 6: keys in any case
        + "\n",
        encoding="utf-8",
    )
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0
    assert "3 rows skipped: line 2: not JSON" in out and "line 4: a JSON list, expected an object" in out
    assert "line 5: no `label`" in out
    assert sorted(intents(bot)["track_order"]) == sorted([TRACK[0], TRACK[2]])
    assert responses(bot)["track_order"][0]["answers"] == [TRACK[0]]


def test_comments_survive_an_import(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    header = (bot / "knowledge/intents.yaml").read_text().split("intents: []")[0]
    assert header.strip().startswith("# Intents:")
    rows = [[t, "track_order"] for t in TRACK[:2]]
    run_import(capsys, write_csv(tmp_path / "a.csv", ["text", "label"], rows), bot)
    text = (bot / "knowledge/intents.yaml").read_text()
    assert text.startswith(header)
    # A comment the author writes among the entries survives the next import too.
    (bot / "knowledge/intents.yaml").write_text(
        text.replace(
            "\nintents:\n  - name: track_order\n", "\nintents:\n  # parcels and deliveries\n  - name: track_order\n"
        )
    )
    run_import(capsys, write_csv(tmp_path / "b.csv", ["text", "label"], [[t, "refund"] for t in REFUND]), bot)
    text = (bot / "knowledge/intents.yaml").read_text()
    assert text.startswith(header) and "  # parcels and deliveries\n  - name: track_order\n" in text
    assert list(intents(bot)) == ["track_order", "refund"]
    templates = (bot / "dialogs/templates.yaml").read_text()
    assert templates.startswith("# A reply per intent") and "track_order:\n    text: '{{Draft reply}}'" in templates


def test_an_import_that_would_break_the_bot_changes_nothing(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_import(capsys, write_csv(tmp_path / "a.csv", ["text", "label"], [[t, "refund"] for t in REFUND]), bot)
    before = snapshot(bot)
    # A reply longer than responses.yaml allows: every file is planned and written, then the bot fails to load.
    rows = [[TRACK[0], "track_order", "Follow it under Orders. " * 500], [TRACK[1], "track_order", "Short."]]
    source = write_csv(tmp_path / "b.csv", ["text", "label", "response"], rows)
    code, _, err = run_import(capsys, source, bot, "--cap", "1")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: the import was undone, nothing changed: ")
    assert "dialogs/responses.yaml" in lines[0] and "10000 characters" in lines[0]
    assert snapshot(bot) == before  # intents.yaml as it was; responses.yaml and heldout.csv not left behind
    load_bot(bot)


SHIPPING_PAGE = (
    "# Shipping\n\n## Costs\n\nStandard delivery costs EUR 4.95.\n\n## Times\n\nMost parcels arrive in two days.\n"
)
RETURNS_PAGE = "<h1>Returns</h1><h2>Sending it back</h2><p>Return any item within 30 days.</p>"


def write_pages(folder: Path) -> Path:
    """A help centre's export: a page, a nested HTML page, an image and a hidden folder."""
    (folder / "help" / "orders").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "shipping.md").write_text(SHIPPING_PAGE, encoding="utf-8")
    (folder / "help" / "orders" / "returns.html").write_text(RETURNS_PAGE, encoding="utf-8")
    (folder / "help" / "logo.png").write_bytes(b"\x89PNG\r\n")
    (folder / ".git" / "config").write_text("[core]\n")
    (folder / ".DS_Store").write_bytes(b"\0")
    return folder


def test_a_folder_of_pages_is_copied_into_the_help_centre(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_pages(tmp_path / "export")
    before = snapshot(bot)
    code, out, err = run_import(capsys, source, bot)
    assert code == 0 and err == ""
    assert f"{source}: added 2 pages, updated 0 (3 passages for `train` to index); 0 unchanged" in out
    assert "1 files skipped: help/logo.png: not a page (.md, .markdown, .html, .htm, .txt)" in out
    assert ".git" not in out and ".DS_Store" not in out and "nothing to change" not in out
    after = snapshot(bot)
    added = {rel: data for rel, data in after.items() if rel not in before}
    # Each page copied byte for byte under its path in the folder; nothing else added, nothing else changed.
    assert added == {
        "knowledge/docs/shipping.md": SHIPPING_PAGE.encode(),
        "knowledge/docs/help/orders/returns.html": RETURNS_PAGE.encode(),
    }
    assert {rel: after[rel] for rel in before} == before
    loaded = load_bot(bot)
    assert loaded.digests["docs"] != ""
    passages = read_passages(bot)
    assert [(p.page, p.source) for p in passages] == [
        ("help/orders/returns.html", "Returns > Sending it back"),
        ("shipping.md", "Shipping > Costs"),
        ("shipping.md", "Shipping > Times"),
    ]


def test_importing_pages_again_changes_nothing_and_an_edit_is_an_update(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_pages(tmp_path / "export")
    assert run_import(capsys, source, bot)[0] == 0
    before = snapshot(bot)
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0
    assert "added 0 pages, updated 0 (0 passages for `train` to index); 2 unchanged" in out
    assert "1 files skipped: help/logo.png" in out
    assert out.rstrip().endswith("nothing to change")
    assert snapshot(bot) == before
    # An edited page is updated, the other unchanged; a new one added.
    edited = SHIPPING_PAGE.replace("EUR 4.95", "EUR 5.95")
    (source / "shipping.md").write_text(edited, encoding="utf-8")
    (source / "help" / "faq.txt").write_text("Questions\nAsk us anything.", encoding="utf-8")
    code, out, _ = run_import(capsys, source, bot, "--dry-run")
    assert code == 0 and "would add 1 pages" in out and "(3 passages for `train` to index); 1 unchanged" in out
    assert snapshot(bot) == before
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0 and "added 1 pages, updated 1 (3 passages for `train` to index); 1 unchanged" in out
    assert "nothing to change" not in out
    after = snapshot(bot)
    assert after["knowledge/docs/shipping.md"] == edited.encode()
    assert after["knowledge/docs/help/faq.txt"] == b"Questions\nAsk us anything."
    assert after["knowledge/docs/help/orders/returns.html"] == before["knowledge/docs/help/orders/returns.html"]


def test_pages_without_text_or_not_utf8_are_skipped(
    bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "export"
    source.mkdir()
    (source / "blank.md").write_text("# Only a title\n\n## And a heading\n", encoding="utf-8")
    (source / "latin1.txt").write_bytes("Rückgabe innerhalb von 30 Tagen.".encode("latin-1"))
    (source / "notes.csv").write_text("a,b\n")
    before = snapshot(bot)
    code, out, _ = run_import(capsys, source, bot)
    assert code == 0 and "added 0 pages, updated 0 (0 passages" in out
    assert "3 files skipped: blank.md: no text; latin1.txt: not UTF-8 text (byte 1); notes.csv: not a page" in out
    assert "nothing to change" in out and snapshot(bot) == before


def test_a_folder_without_files_is_refused(bot: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = snapshot(bot)
    empty = tmp_path / "empty"
    (empty / "sub" / "deeper").mkdir(parents=True)
    code, out, err = run_import(capsys, empty, bot)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:")
    assert str(empty) in lines[0] and "holds no files" in lines[0] and ".md, .html or .txt" in lines[0]
    # Hidden files only are no files either.
    (empty / ".DS_Store").write_bytes(b"\0")
    (empty / ".git").mkdir()
    (empty / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    code, _, err = run_import(capsys, empty, bot)
    assert code == 2 and len(err.strip().splitlines()) == 1 and "holds no files" in err
    assert snapshot(bot) == before
