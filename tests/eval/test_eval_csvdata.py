"""CSV readers of `python -m agent eval`: good files, and bad ones with a one-line error naming the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.eval.csvdata import read_faq, read_labelled, read_queries, read_table
from agent.exceptions import AgentError, DatasetError


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_labelled_rows_keep_text_label_and_line(tmp_path: Path) -> None:
    file = write(tmp_path / "t.csv", 'text,label\nhello there,greet\n"a, quoted, text",oos\n\n  spaced  , x \n')
    rows = read_labelled(file)
    assert [(r.text, r.label, r.line) for r in rows] == [
        ("hello there", "greet", 2),
        ("a, quoted, text", "oos", 3),
        ("spaced", "x", 5),
    ]


def test_label_column_can_be_renamed_and_extra_columns_are_ignored(tmp_path: Path) -> None:
    file = write(tmp_path / "b.csv", "id,text,category\n1,where is my card,card_arrival\n")
    rows = read_labelled(file, label_column="category")
    assert rows[0].label == "card_arrival" and rows[0].text == "where is my card"


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    file = write(tmp_path / "bom.csv", "text,label\nhi,greet\n", encoding="utf-8-sig")
    assert read_labelled(file)[0].text == "hi"


def test_multiline_quoted_cell(tmp_path: Path) -> None:
    file = write(tmp_path / "m.csv", 'id,question,answer\nq1,How?,"line one\nline two"\n')
    (entry,) = read_faq(file)
    assert entry.answer == "line one\nline two"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("", "the file is empty"),
        ("   \n\n", "the file is empty"),
        ("text,label\n", "has a header but no data rows"),
        ("text,category\nhi,greet\n", "line 1: missing column 'label'; the header has 'text', 'category'"),
        ("text,label\nhi,\n", "line 2: column 'label' is empty"),
        ("text,label\nhi,greet,extra\n", "line 2: more cells than the header's 2 columns"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, content: str, expected: str) -> None:
    file = write(tmp_path / "bad.csv", content)
    with pytest.raises(DatasetError) as info:
        read_labelled(file)
    message = str(info.value)
    assert str(file) in message and expected in message
    assert "\n" not in message
    assert isinstance(info.value, AgentError)


def test_unknown_encoding_is_refused_with_the_line(tmp_path: Path) -> None:
    file = write(tmp_path / "latin.csv", "text,label\nhello,greet\ncafé crème,order\n", encoding="latin-1")
    with pytest.raises(DatasetError, match=r"latin\.csv line 3: not UTF-8 \(byte 0xe9"):
        read_labelled(file)


def test_utf16_file_is_refused(tmp_path: Path) -> None:
    file = write(tmp_path / "wide.csv", "text,label\nhello,greet\n", encoding="utf-16")
    with pytest.raises(DatasetError, match="not UTF-8"):
        read_labelled(file)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"CSV file .*nope\.csv does not exist"):
        read_labelled(tmp_path / "nope.csv")
    with pytest.raises(DatasetError, match="is a folder"):
        read_table(tmp_path, ["text"])


def test_faq_reader_splits_alternatives_and_rejects_duplicates_and_bad_ids(tmp_path: Path) -> None:
    header = "id,question,answer,alternatives\n"
    good = write(tmp_path / "faq.csv", header + "fee-1,Is it free?,Yes.,Any cost?| Do I pay? |\n")
    (entry,) = read_faq(good)
    assert entry.alternatives == ["Any cost?", "Do I pay?"]
    assert entry.texts() == ["Is it free?", "Any cost?", "Do I pay?"]

    dup = write(tmp_path / "dup.csv", "id,question,answer\na1,Q?,A.\na1,Q2?,A2.\n")
    with pytest.raises(DatasetError, match=r"dup\.csv line 3: id 'a1' already used on line 2"):
        read_faq(dup)

    bad_id = write(tmp_path / "badid.csv", "id,question,answer\nNot An Id,Q?,A.\n")
    with pytest.raises(DatasetError, match=r"badid\.csv line 2: column 'id' \(id 'Not An Id'\)"):
        read_faq(bad_id)


def test_queries_must_name_known_faq_ids(tmp_path: Path) -> None:
    file = write(tmp_path / "q.csv", "text,faq_id\nhow much?,fee-1\nlost card,card-9\n")
    assert [q.faq_id for q in read_queries(file)] == ["fee-1", "card-9"]
    with pytest.raises(DatasetError, match=r"q\.csv line 3: faq_id 'card-9' is not an id of the FAQ file"):
        read_queries(file, known_ids={"fee-1"})
