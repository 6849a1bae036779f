"""A bot folder loads whole or not at all; every mistake is one line naming file, line, entry and field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from tinybot import ROOT, TINY_FAQ, TINY_GRAPH, TINY_TEMPLATES, write_tiny_bot

from agent.exceptions import ConfigError
from agent.pipeline.assemble import load_bot


def test_demo_bot_meets_its_content_requirements() -> None:
    bot = load_bot(ROOT)
    names = bot.intent_names()
    assert len(names) == 81
    assert {"greeting", "goodbye", "thanks", "human_handoff"} <= set(names)
    assert all(len(spec.examples) >= 12 for spec in bot.intents.intents)
    assert len(bot.faq.faqs) >= 120
    from agent.steps.graph import KnowledgeGraph

    assert KnowledgeGraph.from_spec(bot.graph, bot.config.graph).fact_count() >= 150
    assert set(bot.templates.templates) == set(names)


def test_tiny_bot_loads(tiny_bot_dir: Path) -> None:
    bot = load_bot(tiny_bot_dir)
    assert bot.config.name == "Tiny bot"
    assert bot.intent_names(include_oos=True)[-1] == "oos"


def _error(folder: Path) -> str:
    with pytest.raises(ConfigError) as info:
        load_bot(folder)
    message = str(info.value)
    assert "\n" not in message, "errors are one line"
    return message


def test_missing_folder(tmp_path: Path) -> None:
    assert "does not exist" in _error(tmp_path / "nope")


def test_missing_file(tmp_path: Path) -> None:
    folder = write_tiny_bot(tmp_path / "b")
    (folder / "knowledge" / "intents.yaml").unlink()
    message = _error(folder)
    assert message.startswith("knowledge/intents.yaml: file is missing") and "intents: [{name:" in message


def test_faq_graph_and_templates_are_optional(tmp_path: Path) -> None:
    folder = write_tiny_bot(
        tmp_path / "b",
        intents={"intents": [{"name": "track_order", "examples": ["where is my parcel"]}]},
        config={"name": "Shop"},  # small talk on: greeting, thanks, goodbye, human_handoff and oos are added
    )
    for rel in ("knowledge/faq.yaml", "knowledge/graph.yaml", "dialogs/templates.yaml"):
        (folder / rel).unlink()
    (folder / "dialogs" / "responses.yaml").write_text(
        "responses:\n  track_order:\n    - text: Track it under Orders.\n      answers: [where is my parcel]\n"
    )
    bot = load_bot(folder)
    assert set(bot.intent_names(include_oos=True)) == {
        "track_order",
        "greeting",
        "thanks",
        "goodbye",
        "human_handoff",
        "oos",
    }
    assert bot.templates.templates["greeting"].text == "Hello! I'm Shop. How can I help?"  # the persona, named
    assert bot.faq.faqs == [] and bot.graph.entities == []


def test_an_intent_needs_a_template_or_responses(tmp_path: Path) -> None:
    folder = write_tiny_bot(
        tmp_path / "b", intents={"intents": [{"name": "track_order", "examples": ["where is my parcel"]}]},
        config={"name": "Shop"}, templates={"templates": {}},
    )  # fmt: skip
    message = _error(folder)
    assert "no template for intent(s) track_order" in message and "or responses in dialogs/responses.yaml" in message


def test_a_validation_error_shows_the_right_shape(tmp_path: Path) -> None:
    message = _error(write_tiny_bot(tmp_path / "b", intents={"intents": [{"name": "a"}]}))
    assert "intents[0].examples" in message and "The right shape, in one line: `intents: [{name:" in message


def test_a_plain_no_read_as_a_boolean_is_explained(tmp_path: Path) -> None:
    folder = write_tiny_bot(tmp_path / "b")
    path = folder / "knowledge/intents.yaml"
    path.write_text(path.read_text() + "- name: no\n  examples: [nope, no thanks]\n")
    message = _error(folder)
    assert "intents.yaml line" in message and "Input should be a valid string" in message
    assert "(YAML read it as False: put it in quotes, e.g. 'no')" in message


def test_handoff_intents_must_be_intents(tmp_path: Path) -> None:
    config = {"name": "x", "dialog": {"small_talk": False, "handoff_intents": ["agent_please"]}}
    message = _error(write_tiny_bot(tmp_path / "b", config=config))
    assert "dialog.handoff_intents names 'agent_please'" in message


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    folder = write_tiny_bot(tmp_path / "b", faq="faqs:\n  - id: a\n    question: [unclosed\n")
    message = _error(folder)
    assert message.startswith("knowledge/faq.yaml line ")
    assert "invalid YAML" in message


def test_unknown_key_in_bot_yaml(tmp_path: Path) -> None:
    folder = write_tiny_bot(tmp_path / "b", config={"name": "x", "intents": {"treshold": 0.3}})
    message = _error(folder)
    assert message.startswith("bot.yaml line 3: intents.treshold")
    assert "Extra inputs are not permitted" in message


def test_out_of_range_threshold(tmp_path: Path) -> None:
    message = _error(write_tiny_bot(tmp_path / "b", config={"name": "x", "faq": {"top_k": 0}}))
    assert "faq.top_k" in message and "greater than or equal to 1" in message


def test_faq_entry_error_names_the_entry(tmp_path: Path) -> None:
    faq = {"faqs": [TINY_FAQ["faqs"][0], {"id": "no-answer", "question": "what?"}]}
    message = _error(write_tiny_bot(tmp_path / "b", faq=faq))
    assert message.startswith("knowledge/faq.yaml line 7: faqs[1].answer (id 'no-answer'): Field required")
    assert "Field required" in message


def test_duplicate_faq_id(tmp_path: Path) -> None:
    faq = {"faqs": [TINY_FAQ["faqs"][0], TINY_FAQ["faqs"][0]]}
    assert "duplicate FAQ id 'opening-hours'" in _error(write_tiny_bot(tmp_path / "b", faq=faq))


def test_template_placeholder_must_resolve(tmp_path: Path) -> None:
    templates = yaml.safe_load(yaml.safe_dump(TINY_TEMPLATES))
    templates["templates"]["lost_card"]["text"] = "Call {bank.fax}."
    message = _error(write_tiny_bot(tmp_path / "b", templates=templates))
    assert "template 'lost_card'" in message and "{bank.fax}" in message and "bank" in message


def test_optional_slot_only_in_when_known(tmp_path: Path) -> None:
    templates = yaml.safe_load(yaml.safe_dump(TINY_TEMPLATES))
    templates["templates"]["card_fee"]["slots"]["card"] = {"type": "card"}
    message = _error(write_tiny_bot(tmp_path / "b", templates=templates))
    assert "optional slot 'card'" in message


def test_every_intent_needs_a_template(tmp_path: Path) -> None:
    templates = yaml.safe_load(yaml.safe_dump(TINY_TEMPLATES))
    del templates["templates"]["greeting"]
    assert "no template for intent(s) greeting" in _error(write_tiny_bot(tmp_path / "b", templates=templates))


def test_relation_to_unknown_entity(tmp_path: Path) -> None:
    graph = yaml.safe_load(yaml.safe_dump(TINY_GRAPH))
    graph["relations"] = [{"source": "card_basic", "relation": "fee", "target": "ghost"}]
    assert "unknown entity 'ghost'" in _error(write_tiny_bot(tmp_path / "b", graph=graph))


def test_shared_alias_is_rejected(tmp_path: Path) -> None:
    graph = yaml.safe_load(yaml.safe_dump(TINY_GRAPH))
    graph["entities"][1]["aliases"].append("basic")
    assert "alias 'basic' is used by both" in _error(write_tiny_bot(tmp_path / "b", graph=graph))


def test_not_utf8(tmp_path: Path) -> None:
    folder = write_tiny_bot(tmp_path / "b")
    (folder / "knowledge" / "faq.yaml").write_bytes(b"faqs: []\n# \xff\xfe bad\n")
    assert "not UTF-8" in _error(folder)


def test_top_level_must_be_mapping(tmp_path: Path) -> None:
    assert "expected a mapping" in _error(write_tiny_bot(tmp_path / "b", faq="- just\n- a list\n"))


def test_a_name_with_braces_is_refused(tmp_path: Path) -> None:
    # The name fills `{name}` in the persona sentences, which become templates of the small talk.
    message = _error(write_tiny_bot(tmp_path / "b", config={"name": "Shop {eu}"}))
    assert message.startswith("bot.yaml line 1: name") and "^[^{}]+$" in message


# --- issue 19: an entry found at fault by a check across entries is named at its own line ----------


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based line of the `occurrence`-th line that is `needle` (leading blanks and dashes aside)."""
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if line.strip(" -") == needle]
    return hits[occurrence - 1]


def test_duplicate_faq_id_is_reported_at_the_second_entry(tmp_path: Path) -> None:
    entry = TINY_FAQ["faqs"][0]
    other = {"id": "other", "question": "Something else?", "answer": "Yes."}
    text = yaml.safe_dump({"faqs": [entry, other, dict(entry)]}, sort_keys=False)
    message = _error(write_tiny_bot(tmp_path / "b", faq=text))
    line = _line_of(text, f"id: {entry['id']}", occurrence=2)
    assert line > 1
    assert message.startswith(f"knowledge/faq.yaml line {line}: faqs[2].id (id '{entry['id']}'): duplicate FAQ id")
    assert "first at faqs[0]" in message


def test_duplicate_intent_is_reported_at_the_second_entry(tmp_path: Path) -> None:
    from tinybot import TINY_INTENTS

    intents = [*TINY_INTENTS["intents"], {"name": "lost_card", "examples": ["where is my card"]}]
    text = yaml.safe_dump({"intents": intents}, sort_keys=False)
    message = _error(write_tiny_bot(tmp_path / "b", intents=text))
    line = _line_of(text, "name: lost_card", occurrence=2)
    assert message.startswith(f"knowledge/intents.yaml line {line}: intents[{len(intents) - 1}].name")
    assert "duplicate intent name 'lost_card'" in message


def test_relation_to_missing_entity_is_reported_at_the_relation(tmp_path: Path) -> None:
    graph = yaml.safe_load(yaml.safe_dump(TINY_GRAPH))
    graph["relations"] = [
        {"source": "card_basic", "relation": "fee", "target": "fee_atm"},
        {"source": "card_plus", "relation": "fee", "target": "ghost"},
    ]
    text = yaml.safe_dump(graph, sort_keys=False)
    message = _error(write_tiny_bot(tmp_path / "b", graph=text))
    line = _line_of(text, "target: ghost")
    assert message.startswith(f"knowledge/graph.yaml line {line}: relations[1].target: unknown entity 'ghost'")


def test_shared_alias_is_reported_at_the_alias(tmp_path: Path) -> None:
    graph = yaml.safe_load(yaml.safe_dump(TINY_GRAPH))
    graph["entities"][1]["aliases"].append("basic")
    text = yaml.safe_dump(graph, sort_keys=False)
    message = _error(write_tiny_bot(tmp_path / "b", graph=text))
    assert message.startswith(f"knowledge/graph.yaml line {_line_of(text, 'basic', occurrence=2)}: entities[1]")


# --- issue 19: an empty file is a mistake, not "no entries" --------------------------------------


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_empty_faq_file_is_refused_with_what_to_write(tmp_path: Path, content: str) -> None:
    folder = write_tiny_bot(tmp_path / "b")
    (folder / "knowledge" / "faq.yaml").write_text(content)
    message = _error(folder)
    assert message.startswith(f"knowledge/faq.yaml: the file is empty ({len(content)} bytes)")
    assert "`faqs: []`" in message and "remove the file" in message


def test_empty_required_file_is_refused(tmp_path: Path) -> None:
    folder = write_tiny_bot(tmp_path / "b")
    (folder / "knowledge" / "intents.yaml").write_bytes(b"")
    assert _error(folder).startswith("knowledge/intents.yaml: the file is empty (0 bytes); every bot needs it")


def test_faq_file_of_comments_only_or_an_empty_list_means_no_entries(tmp_path: Path) -> None:
    folder = write_tiny_bot(tmp_path / "b")
    for content in ("# no FAQ entries yet\n", "faqs: []\n"):
        (folder / "knowledge" / "faq.yaml").write_text(content)
        assert load_bot(folder).faq.faqs == []
    (folder / "knowledge" / "faq.yaml").unlink()
    assert load_bot(folder).faq.faqs == []


# --- issue 19: a FAQ phrasing without a letter or digit would match every emoji-only message ---------


@pytest.mark.parametrize(
    ("question", "alternatives", "where"),
    [
        ("\u0378", [], "faqs[0].question"),
        ("When are you open?", ["opening hours", "🕐"], "faqs[0].alternatives[1]"),
        ("?!", [], "faqs[0].question"),
    ],
)
def test_faq_yaml_refuses_a_phrasing_without_letters_or_digits(
    tmp_path: Path, question: str, alternatives: list[str], where: str
) -> None:
    faq = {"faqs": [{"id": "x", "question": question, "alternatives": alternatives, "answer": "A."}]}
    with pytest.raises(ConfigError) as info:
        load_bot(write_tiny_bot(tmp_path / "b", faq=faq))
    message = str(info.value)
    assert message.startswith("knowledge/faq.yaml line ") and f"{where} (id 'x'): " in message
    assert "has no letter or digit" in message and "\n" not in message
