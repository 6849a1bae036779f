"""Arguments and dispatch of `python -m agent eval intents | faq | conversations` (wired into agent/cli.py)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic import ValidationError

from agent.config import BotConfig, IntentConfig
from agent.exceptions import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The `eval` sub-commands and their options."""
    sub = parser.add_subparsers(dest="eval_command", required=True)

    intents = sub.add_parser("intents", help="train the intent classifier on a CSV as `train` does; test on another")
    intents.add_argument("--train", required=True, metavar="TRAIN.csv", help="training rows: text,label")
    intents.add_argument("--test", required=True, metavar="TEST.csv", help="test rows, same columns")
    intents.add_argument("--label-column", default="label", help="column holding the label (default: label)")
    intents.add_argument("--text-column", default="text", help="column holding the message (default: text)")
    _common(intents)
    intents.add_argument(
        "--finetune", action="store_true", help="fine-tune the encoder (as `intents.finetune.enabled: true`)"
    )
    intents.add_argument(
        "--members",
        type=int,
        default=None,
        metavar="N",
        help="`intents.finetune.members`: fine-tune N encoders with different seeds and use them together "
        "(an ensemble; implies --finetune; N times the fine-tuning time)",
    )
    intents.add_argument(
        "--lexical-weight",
        type=float,
        default=None,
        metavar="W",
        help="`intents.lexical_weight`: blend a TF-IDF model's probabilities with this weight (0 off, 0.5 equal)",
    )
    intents.add_argument(
        "--knn-weight",
        type=float,
        default=None,
        metavar="W",
        help="`intents.knn_weight`: blend the distance to the nearest in-scope example into the out-of-scope score "
        "(needs --oos-probability auto)",
    )
    intents.add_argument(
        "--oos-probability",
        default=None,
        metavar="auto|P|none",
        help="the `intents.oos_probability` rule: 'auto' (chosen on held-out training rows), a number, or 'none'",
    )

    conversations = sub.add_parser(
        "conversations",
        help="play labelled conversations through a bot (nothing stored); first-turn and follow-up accuracy",
    )
    conversations.add_argument("file", metavar="FILE.jsonl", help="conversations in the replay JSONL (or CSV) format")
    conversations.add_argument("--bot", default=".", help="bot folder (default: current folder, the demo bot)")
    conversations.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")

    faq = sub.add_parser("faq", help="index a FAQ CSV with the bot's FAQ index; score ranked answers to queries")
    faq.add_argument("--faq", required=True, metavar="FAQ.csv", help="entries: id,question,answer[,alternatives]")
    faq.add_argument("--queries", required=True, metavar="QUERIES.csv", help="queries: text,faq_id")
    _common(faq)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", default=None, metavar="bot.yaml", help="take encoder, intents and faq settings from this bot.yaml"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a summary")


def load_settings(args: argparse.Namespace) -> BotConfig:
    """Defaults, or the settings of the bot.yaml given with --config, with command-line overrides applied."""
    if args.config:
        from agent.bot.folder import SHAPES, _parse

        file = Path(args.config)
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise ConfigError(f"{file}: cannot be read ({exc.strerror or exc}).") from None
        config = _parse(str(file), raw, BotConfig, SHAPES["config"])
    else:
        config = BotConfig(name="eval")
    intents = config.intents
    members = getattr(args, "members", None)
    if members is not None and not 1 <= members <= 8:
        raise ConfigError(f"--members {members}: expected a whole number from 1 to 8.")
    if getattr(args, "finetune", False) or members is not None:
        update: dict[str, object] = {"enabled": True} | ({"members": members} if members is not None else {})
        intents = intents.model_copy(update={"finetune": intents.finetune.model_copy(update=update)})
    weight = getattr(args, "lexical_weight", None)
    if weight is not None:
        if not 0.0 <= weight < 1.0:
            raise ConfigError(f"--lexical-weight {weight}: expected a number in [0, 1).")
        intents = intents.model_copy(update={"lexical_weight": weight})
    choice = getattr(args, "oos_probability", None)
    if choice is not None:
        intents = intents.model_copy(update={"oos_probability": _oos_probability(choice)})
    knn = getattr(args, "knn_weight", None)
    if knn is not None:
        if not 0.0 <= knn < 1.0:
            raise ConfigError(f"--knn-weight {knn}: expected a number in [0, 1).")
        intents = intents.model_copy(update={"knn_weight": knn})
    try:  # the overrides together must still make a valid `intents` section
        intents = IntentConfig.model_validate(intents.model_dump())
    except ValidationError as exc:
        message = exc.errors()[0]["msg"].removeprefix("Value error, ")
        raise ConfigError(f"eval intents settings: {message}.") from None
    return config.model_copy(update={"intents": intents})


def _oos_probability(text: str) -> float | str | None:
    value = text.strip().lower()
    if value in {"none", "off"}:
        return None
    if value == "auto":
        return "auto"
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not 0.0 < number <= 1.0:
        raise ConfigError(f"--oos-probability '{text}': expected 'auto', 'none' or a number in (0, 1].")
    return number


def run(args: argparse.Namespace) -> int:
    """Run the chosen evaluation and print its figures."""
    if args.eval_command == "conversations":
        from agent.eval.conversations import evaluate_conversations
        from agent.eval.conversations import format_report as format_conversations

        played = evaluate_conversations(args.file, args.bot, progress=not args.json)
        print(json.dumps(played.as_dict()) if args.json else format_conversations(played, args.file))
        return 0
    config = load_settings(args)
    progress = not args.json
    if args.eval_command == "intents":
        from agent.eval.intents import evaluate_intents, format_report

        report = evaluate_intents(args.train, args.test, config, args.label_column, args.text_column, progress=progress)
        print(json.dumps(report.as_dict()) if args.json else format_report(report, args.train, args.test))
        return 0
    from agent.eval.faq import evaluate_faq
    from agent.eval.faq import format_report as format_faq

    faq_report = evaluate_faq(args.faq, args.queries, config, progress=progress)
    print(json.dumps(faq_report.as_dict()) if args.json else format_faq(faq_report, args.faq, args.queries))
    return 0
