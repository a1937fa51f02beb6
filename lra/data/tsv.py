"""Reading the tab-separated files of the release (ListOps, AAN) and of our generators (LEGO).

Every loader needs the same checks: a file with no data rows is an error, a header must be the
expected one, and a row with the wrong number of fields is an error naming ``file:line``.
"""
from __future__ import annotations

from collections.abc import Iterator

from lra.data.errors import DataError, where


def count_data_lines(path: str) -> int:
    """Number of lines in a file (a last line without newline counts)."""
    n = 0
    last = b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 24):
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def count_rows(path: str, header: bytes | None, expected: str) -> int:
    """Data rows of a TSV (its lines less the header); no rows is an error saying what was expected."""
    total = count_data_lines(path) - (header is not None)
    if total < 1:
        raise DataError(f"{where(path)}: empty file (expected {expected})")
    return total


def tsv_rows(path: str, field_names: tuple[str, ...], header: bytes | None = None) -> Iterator[tuple[int, list[bytes]]]:
    """``(line number, fields)`` of every non-empty data row, after checking the header.

    Rows are split on tabs only (no quoting, as LRA reads them); a row with other than
    ``len(field_names)`` fields raises a DataError naming ``path:line`` and the expected fields.
    """
    with open(path, "rb") as f:
        first_line = 1
        if header is not None:
            found = f.readline().rstrip(b"\r\n")
            if found != header:
                expected = header.decode().replace("\t", "<TAB>")
                raise DataError(f"{where(path, 1)}: expected the header `{expected}`, got {found[:60]!r}")
            first_line = 2
        for lineno, line in enumerate(f, start=first_line):
            line = line.rstrip(b"\r\n")
            if not line:
                continue
            fields = line.split(b"\t")
            if len(fields) != len(field_names):
                raise DataError(
                    f"{where(path, lineno)}: malformed row, expected {len(field_names)} tab-separated "
                    f"fields ({', '.join(field_names)}), got {len(fields)}"
                )
            yield lineno, fields
