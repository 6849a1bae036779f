"""Pattern slots (bot.yaml `patterns:`): found by shape, carried across turns, masked when personal."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from pydantic import ValidationError
from tinybot import TINY_INTENTS, TINY_TEMPLATES, write_tiny_bot

from agent import load_trained
from agent.config import BotConfig, PatternConfig, PrivacyConfig
from agent.exceptions import ConfigError
from agent.pipeline.assemble import load_bot
from agent.pipeline.privacy import Masker
from agent.steps.encoder import Encoder
from agent.steps.patterns import PatternFinder

ORDER = r"\b[A-Z]{2}\d{6}\b"


def test_built_in_shapes_and_a_bots_own_regex_are_found() -> None:
    finder = PatternFinder(
        {
            "order_number": PatternConfig(regex=ORDER),
            "tracking": PatternConfig(regex=r"tracking (?:code |number )?(?P<value>\d{10,})"),
            "email": PatternConfig(kind="email"),
            "amount": PatternConfig(kind="amount"),
            "date": PatternConfig(kind="date"),
        }
    )
    found = finder.find("order ab123456, tracking code 1234567890, paid £1,234.50 on 12 March 2026, ann@example.com")
    assert [(m.name, m.value, m.personal) for m in found] == [
        ("order_number", "ab123456", False),  # case-insensitive unless the regex says otherwise
        ("tracking", "1234567890", False),  # the group named `value`, not the whole match
        ("email", "ann@example.com", True),  # e-mail and phone are personal unless bot.yaml says not
        ("amount", "£1,234.50", False),
        ("date", "12 March 2026", False),
    ]
    assert finder.find("how do I reset my password?") == []
    assert [m.value for m in finder.find("40 euros charged on 2026-03-12")] == ["40 euros", "2026-03-12"]


def test_masking_covers_personal_patterns_and_the_values_a_session_holds() -> None:
    finder = PatternFinder(
        {"email": PatternConfig(kind="email"), "member": PatternConfig(regex=r"\bM\d{5}\b", personal=True)}
    )
    masker = Masker(PrivacyConfig(), finder.masking_rules())
    assert masker.mask("write to ann@example.com, member M12345") == "write to [email], member [member]"
    known = finder.personal_values({"member": "M12345"})
    earlier = masker.scrubber("", known)
    assert earlier is not None and earlier("Member M12345 is verified.") == "Member [member] is verified."


def test_adversarial_messages_cost_little() -> None:
    finder = PatternFinder({k: PatternConfig(kind=k) for k in ("email", "amount", "date", "phone")})
    masker = Masker(PrivacyConfig(), finder.masking_rules())
    # Each built-in regex is linear: these would take seconds with nested repetition.
    for text in ("@" * 1000 + "a." * 500, "1" * 2000, "£" + "1," * 999, "😀" * 2000, "12/" * 666):
        finder.find(text)
        masker.mask(text)


@pytest.mark.parametrize(
    ("patterns", "says"),
    [
        ({"order": {}}, "exactly one of regex or kind"),
        ({"order": {"regex": "([A-Z"}}, "does not compile"),
        ({"Order Number": {"kind": "email"}}, "lowercase letters"),
        ({"order": {"kind": "postcode"}}, "kind"),
    ],
)
def test_bad_pattern_declarations_are_refused_with_the_right_shape(patterns: dict, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        BotConfig(name="x", patterns=patterns)


def _order_bot(folder: Path) -> Path:
    intents = copy.deepcopy(TINY_INTENTS)
    intents["intents"].insert(
        0,
        {
            "name": "track_order",
            "examples": [
                "where is my order",
                "track my order",
                "my parcel has not arrived",
                "when will my order arrive",
                "order status please",
                "has my package shipped yet",
            ],
        },
    )
    templates = copy.deepcopy(TINY_TEMPLATES)
    templates["templates"]["track_order"] = {
        "slots": {"order": {"type": "order_number", "required": True, "ask": "What is your order number?"}},
        "text": "Order {order} is on its way; the receipt went to {{Email}}. Questions: help@tiny.example",
    }
    config = {
        "name": "Tiny bot",
        "intents": {"confident": 0.3, "oos_threshold": 0.2},
        "dialog": {"small_talk": False},
        "patterns": {"order_number": {"regex": ORDER}, "email": {"kind": "email"}},
        "placeholders": {"Email": {"slot": "email"}},
    }
    return write_tiny_bot(folder, config=config, intents=intents, templates=templates)


def test_a_pattern_slot_is_asked_for_then_filled_and_kept_over_turns(tmp_path: Path, encoder: Encoder) -> None:
    folder = _order_bot(tmp_path / "shop")
    agent = load_trained(folder, encoder=encoder, store_url=f"sqlite:///{tmp_path / 'x.db'}", progress=False)
    try:
        first = agent.respond("c1", "where is my order? my email is ann@example.com")
        assert first.source == "ask" and first.text == "What is your order number?"
        second = agent.respond("c1", "it's AB123456")
        assert second.source == "template" and second.intent == "track_order"
        assert (
            second.text
            == "Order AB123456 is on its way; the receipt went to ann@example.com. Questions: help@tiny.example"
        )
        assert [(m.name, m.value) for m in second.values] == [("order_number", "AB123456")]
        # The e-mail is personal: kept for the conversation's replies, masked in what is stored.
        stored = agent.conversation("c1")
        assert stored is not None
        kept = " ".join(t.text for t in stored.turns) + " ".join(
            t.trace.model_dump_json() for t in stored.turns if t.trace
        )
        assert "ann@example.com" not in kept and "[email]" in kept
        assert "AB123456" in kept  # not personal
        assert "help@tiny.example" in kept  # the bot's own words are not the customer's data
    finally:
        agent.close()


def test_a_template_slot_of_an_undeclared_type_names_both_places_to_declare_it(tmp_path: Path) -> None:
    folder = _order_bot(tmp_path / "shop")
    config = (folder / "bot.yaml").read_text().replace("order_number:", "parcel_code:")
    (folder / "bot.yaml").write_text(config)
    with pytest.raises(ConfigError, match=r"nor a pattern in bot\.yaml `patterns:`"):
        load_bot(folder)


def test_a_bots_masker_masks_its_personal_patterns_for_everything_kept() -> None:
    # The masker the store, replay's results and its reports all use (Masker.for_bot).
    config = BotConfig(
        name="x", patterns={"member": {"regex": r"\bM\d{5}\b", "personal": True}, "order": {"regex": ORDER}}
    )
    assert Masker.for_bot(config).mask("member M12345, order AB123456") == "member [member], order AB123456"
