"""`python -m agent eval intents | faq` end to end on small CSV files, with the real encoder."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import yaml
from tinybot import TINY_INTENTS

from agent.cli import main


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture()
def intent_files(tmp_path: Path) -> tuple[Path, Path]:
    rows = [[text, spec["name"]] for spec in TINY_INTENTS["intents"] for text in spec["examples"]]
    train = write_csv(tmp_path / "train.csv", ["text", "label"], rows)
    test = write_csv(
        tmp_path / "test.csv",
        ["text", "label"],
        [
            ["what is the monthly price of the card", "card_fee"],
            ["my card has been stolen", "lost_card"],
            ["hello!", "greeting"],
            ["what will the weather be like tomorrow", "oos"],
        ],
    )
    return train, test


def run_json(capsys: pytest.CaptureFixture[str], argv: list[str]) -> dict:
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_eval_intents_json_has_every_figure(intent_files, capsys) -> None:
    train, test = intent_files
    out = run_json(capsys, ["eval", "intents", "--train", str(train), "--test", str(test), "--json"])
    for key in ("accuracy", "in_scope_accuracy", "oos_recall", "oos_precision", "macro_f1", "train_seconds"):
        assert key in out, key
    assert out["n_train"] == 24 and out["n_test"] == 4 and out["n_train_oos"] == 6
    assert out["in_scope_accuracy"] == 1.0  # three unmistakable messages
    assert out["accuracy"] >= 0.75
    assert out["finetune"] is None and out["unseen_test_labels"] == []


def test_eval_intents_label_column_and_summary(tmp_path: Path, capsys) -> None:
    rows = [[text, spec["name"]] for spec in TINY_INTENTS["intents"][:3] for text in spec["examples"]]
    train = write_csv(tmp_path / "train.csv", ["text", "category"], rows)
    test = write_csv(tmp_path / "test.csv", ["text", "category"], [["hi there", "greeting"], ["card lost", "x_new"]])
    assert main(["eval", "intents", "--train", str(train), "--test", str(test), "--label-column", "category"]) == 0
    printed = capsys.readouterr().out
    assert "in-scope accuracy" in printed and "1 test labels never seen in training (x_new" in printed


def test_eval_intents_with_finetuning_from_a_config(intent_files, tmp_path: Path, capsys) -> None:
    train, test = intent_files
    config = tmp_path / "bot.yaml"
    tuning = {"enabled": True, "epochs": 1, "layers": 1, "batch_size": 8, "holdout": 0.2}
    config.write_text(yaml.safe_dump({"name": "x", "intents": {"oos_probability": "auto", "finetune": tuning}}))
    argv = ["eval", "intents", "--train", str(train), "--test", str(test), "--config", str(config), "--json"]
    out = run_json(capsys, argv)
    # 1 of 6 held out per in-scope intent, and every one of the 6 `oos` rows (finetune.hold_out_oos).
    assert out["finetune"]["epochs"] == 1 and out["finetune"]["examples"] == 24 - 3 - 6
    assert out["settings"]["intents"]["finetune"]["enabled"] is True
    assert out["oos_probability"] is None or 0.0 < out["oos_probability"] <= 1.0
    assert out["in_scope_accuracy"] >= 2 / 3


def test_eval_intents_with_an_ensemble_of_members(intent_files, tmp_path: Path, capsys) -> None:
    train, test = intent_files
    config = tmp_path / "bot.yaml"
    tuning = {"epochs": 1, "layers": 1, "batch_size": 8, "holdout": 0.2}
    config.write_text(yaml.safe_dump({"name": "x", "intents": {"finetune": tuning}}))
    argv = ["eval", "intents", "--train", str(train), "--test", str(test), "--config", str(config), "--members", "2"]
    out = run_json(capsys, [*argv, "--json"])
    # --members alone switches fine-tuning on; each member trains on the same 15 rows.
    assert out["settings"]["intents"]["finetune"]["enabled"] is True
    assert out["finetune"]["members"] == 2 and out["finetune"]["examples"] == 15
    assert out["finetune"]["steps"] == 2 * 2  # two members, 15 rows in batches of 8, one epoch each
    assert out["in_scope_accuracy"] >= 2 / 3


def test_the_clinc150_benchmark_settings_are_a_valid_intents_section(capsys) -> None:
    from bench.public_accuracy import clinc150_settings

    intents = clinc150_settings(frozen=False).intents  # a typo in the file fails here, not after 30 minutes
    assert intents.finetune.enabled and intents.finetune.members == 3 and intents.oos_probability == "auto"


def test_eval_intents_with_the_lexical_blend(intent_files, capsys) -> None:
    train, test = intent_files
    argv = ["eval", "intents", "--train", str(train), "--test", str(test), "--lexical-weight", "0.5", "--json"]
    out = run_json(capsys, argv)
    assert out["settings"]["intents"]["lexical_weight"] == 0.5
    assert out["in_scope_accuracy"] == 1.0


def test_eval_intents_with_the_neighbour_rule(intent_files, capsys) -> None:
    train, test = intent_files
    tail = ["--oos-probability", "auto", "--knn-weight", "0.5", "--json"]
    out = run_json(capsys, ["eval", "intents", "--train", str(train), "--test", str(test), *tail])
    assert out["settings"]["intents"]["knn_weight"] == 0.5
    assert out["oos_probability"] is None and out["knn_threshold"] is not None  # it replaces the p(oos) rule
    assert out["oos_recall"] == 1.0


def test_eval_faq_ranks_the_right_entry(tmp_path: Path, capsys) -> None:
    faq = write_csv(
        tmp_path / "faq.csv",
        ["id", "question", "answer"],
        [
            ["atm-fee", "How much does a cash withdrawal cost?", "Withdrawals are free up to EUR 200 a month."],
            ["lost-card", "What do I do if I lose my card?", "Freeze it in the app and order a new one."],
            ["top-up", "How can I add money to my account?", "Top up by bank transfer or debit card."],
        ],
    )
    queries = write_csv(
        tmp_path / "q.csv",
        ["text", "faq_id"],
        [["is taking cash out of an ATM free", "atm-fee"], ["I can't find my card", "lost-card"]],
    )
    out = run_json(capsys, ["eval", "faq", "--faq", str(faq), "--queries", str(queries), "--json"])
    assert out["p_at_1"] == 1.0 and out["mrr"] == 1.0 and out["recall_at_5"] == 1.0 and out["n_queries"] == 2


@pytest.mark.parametrize(
    ("argv_tail", "expected"),
    [
        (["--label-column", "category"], "line 1: missing column 'category'"),
        (["--oos-probability", "2"], "--oos-probability '2'"),
        (["--lexical-weight", "1.5"], "--lexical-weight 1.5"),
        (["--knn-weight", "0.5"], "knn_weight (0.5) needs oos_probability: auto"),
        (["--members", "0"], "--members 0: expected a whole number from 1 to 8"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(intent_files, capsys, argv_tail, expected) -> None:
    train, test = intent_files
    assert main(["eval", "intents", "--train", str(train), "--test", str(test), *argv_tail]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and expected in err and "\n" not in err


def test_empty_and_undecodable_files_name_the_file(tmp_path: Path, capsys) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    queries = tmp_path / "q.csv"
    queries.write_bytes("text,faq_id\ncaf\xe9,x\n".encode("latin-1"))
    assert main(["eval", "faq", "--faq", str(empty), "--queries", str(queries)]) == 2
    assert f"{empty}: the file is empty" in capsys.readouterr().err
    faq = write_csv(tmp_path / "faq.csv", ["id", "question", "answer"], [["x", "Q?", "A."]])
    assert main(["eval", "faq", "--faq", str(faq), "--queries", str(queries)]) == 2
    assert f"{queries} line 2: not UTF-8" in capsys.readouterr().err
