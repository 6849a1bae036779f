"""Opening the data files a user hands to a command (eval CSVs, replay logs).

One function, so every command words a missing, misplaced or unreadable file the
same way: one `DatasetError` line that names the file and says what to give instead.
"""

from __future__ import annotations

from pathlib import Path

from agent.exceptions import DatasetError


def read_data_file(path: str | Path, kind: str, expected: str) -> bytes:
    """The bytes of `path`; `kind` names the file in errors ("Replay log"), `expected` what it should be."""
    file = Path(path)
    try:
        return file.read_bytes()
    except FileNotFoundError:
        raise DatasetError(f"{kind} file {file} does not exist.") from None
    except IsADirectoryError:
        raise DatasetError(f"{kind} path {file} is a folder; give {expected}.") from None
    except OSError as exc:
        raise DatasetError(f"Cannot read {kind.lower()} file {file}: {exc.strerror or exc}.") from None
