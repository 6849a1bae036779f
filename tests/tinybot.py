"""The tiny bot: a small valid bot folder that tests write and change freely."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]  # the repository root, which is the demo bot

TINY_INTENTS = {
    "intents": [
        {
            "name": "card_fee",
            "examples": [
                "how much does the card cost",
                "is the card free",
                "monthly fee for the card",
                "what do I pay for my card each month",
                "card price",
                "does the plus card cost money",
            ],
        },
        {
            "name": "lost_card",
            "examples": [
                "I lost my card",
                "my card was stolen",
                "can't find my card anywhere",
                "someone took my wallet with the card",
                "card missing",
                "report a lost card",
            ],
        },
        {"name": "greeting", "examples": ["hi", "hello", "hey there", "good morning", "hiya", "hello bot"]},
        {
            "name": "oos",
            "examples": [
                "what's the weather tomorrow",
                "book me a flight",
                "tell me a joke",
                "recipe for pancakes",
                "who won the football match",
                "play some music",
            ],
        },
    ]
}
# The one hand-built graph of the tests: the tiny bot's, and the graph step's own tests read it too.
TINY_GRAPH = {
    "entities": [
        {
            "id": "card_basic",
            "type": "card",
            "name": "Basic card",
            "aliases": ["basic", "basic card"],
            "attributes": {"monthly_fee": "EUR 0"},
        },
        {
            "id": "card_plus",
            "type": "card",
            "name": "Plus card",
            "aliases": ["plus", "plus card"],
            "attributes": {"monthly_fee": "EUR 4.99"},
        },
        {
            "id": "card_premium",
            "type": "card",
            "name": "Premium card",
            "aliases": ["premium", "premium card"],
            "attributes": {"monthly_fee": "EUR 12.99"},
        },
        {"id": "fee_atm", "type": "fee", "name": "ATM fee", "attributes": {"amount": "2%", "minimum": "EUR 1.00"}},
        {
            "id": "currency_usd",
            "type": "currency",
            "name": "US dollar",
            "aliases": ["usd", "dollars", "$"],
            "attributes": {"code": "USD"},
        },
        {
            "id": "country_switzerland",
            "type": "country",
            "name": "Switzerland",
            "aliases": ["switzerland"],
            "attributes": {"supported": "yes"},
        },
        {"id": "bank", "type": "bank", "name": "Tiny Bank", "aliases": [], "attributes": {"phone": "+1 555 0100"}},
    ],
    "relations": [
        {"source": "card_plus", "relation": "atm_fee", "target": "fee_atm"},
        {"source": "card_premium", "relation": "atm_fee", "target": "fee_atm"},
    ],
    "procedures": {"lost_card": {"required": [], "steps": ["Freeze the card in the app.", "Order a new one."]}},
}
TINY_TEMPLATES = {
    "templates": {
        "card_fee": {
            "slots": {"card": {"type": "card", "required": True, "ask": "Which card: Basic, Plus or Premium?"}},
            "text": "The {card.name} costs {card.monthly_fee} a month.",
        },
        "lost_card": {"text": "Sorry to hear that. {steps}\nOr call us on {bank.phone}."},
        "greeting": {"text": "Hello from {bank}!"},
    }
}
TINY_FAQ = {
    "faqs": [
        {
            "id": "opening-hours",
            "question": "When is support open?",
            "alternatives": ["what are your opening hours"],
            "answer": "Support is open 24/7 in the app.",
        },
    ]
}


def write_tiny_bot(folder: Path, **overrides: object) -> Path:
    """A small valid bot folder; `overrides` replace whole files by key (config, intents, faq, graph, templates)."""
    files = {
        # Small talk off: the tests of the tiny bot count on its three intents
        # (tests/bot/test_folder.py and tests/training/test_own_bot.py have it on).
        "bot.yaml": overrides.get(
            "config",
            {"name": "Tiny bot", "intents": {"confident": 0.3, "oos_threshold": 0.2}, "dialog": {"small_talk": False}},
        ),
        "knowledge/intents.yaml": overrides.get("intents", TINY_INTENTS),
        "knowledge/faq.yaml": overrides.get("faq", TINY_FAQ),
        "knowledge/graph.yaml": overrides.get("graph", TINY_GRAPH),
        "dialogs/templates.yaml": overrides.get("templates", TINY_TEMPLATES),
    }
    for rel, content in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False))
    return folder
