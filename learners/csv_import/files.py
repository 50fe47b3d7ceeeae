"""A CSV export as a text stream: encoding, delimiter, and quoting checked over the whole file. Pure."""

from __future__ import annotations

import codecs
import csv
import io
from typing import BinaryIO

from charset_normalizer import from_bytes

_SAMPLE_BYTES = 64 * 1024


class FileError(Exception):
    """The file itself cannot be read: nothing is imported."""


def detect_encoding(sample: bytes) -> str:
    """BOMs first, then strict UTF-8, then charset-normalizer (Windows-1252, UTF-16 without BOM, …)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        pass
    if sample.count(b"\x00") > len(sample) // 4:
        best = from_bytes(sample).best()  # UTF-16 without a byte-order mark
    else:
        try:
            sample.decode("cp1252")
            # Excel's "CSV" on Western-locale Windows. Short samples cannot tell it from its
            # neighbours (cp1250, Latin-1) reliably; --encoding overrides.
            return "cp1252"
        except UnicodeDecodeError:
            best = from_bytes(sample).best()
    if best is None:
        raise FileError("cannot tell the file's text encoding (is it a spreadsheet, not a CSV?)")
    return best.encoding


MAX_RECORD_LINES = 50  # a quoted cell longer than this is a quote that was never closed
CELL_TOO_LONG = "line {line}: a cell longer than {limit} characters: is a quote never closed?"


def open_export(handle: BinaryIO, encoding: str = "") -> tuple[io.TextIOWrapper, str, str]:
    """Text stream, encoding and delimiter of a CSV export; raises ``FileError`` when unusable.

    The whole file is read once before anything is imported (decoding, and a quote that is never
    closed), so a file that is unusable past its first rows imports nothing rather than half.
    """
    sample = handle.read(_SAMPLE_BYTES)
    if not sample.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise FileError("the file is empty")
    if sample[:4] == b"PK\x03\x04" or sample[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError("this is a spreadsheet (xlsx/xls), not a CSV: save it as CSV first")
    try:
        encoding = codecs.lookup(encoding).name if encoding else _whole_file_encoding(handle, detect_encoding(sample))
    except LookupError as exc:
        raise FileError(f"unknown encoding {encoding!r}") from exc
    text_sample = sample.decode(encoding, errors="ignore")
    first_lines = "\n".join(text_sample.splitlines()[:20])
    try:
        delimiter = csv.Sniffer().sniff(first_lines, delimiters=",;\t|").delimiter
    except csv.Error:
        header = text_sample.splitlines()[0] if text_sample.splitlines() else ""
        delimiter = max(",;\t", key=header.count) if header else ","
    _check_structure(handle, encoding, delimiter)
    handle.seek(0)
    return io.TextIOWrapper(handle, encoding=encoding, newline="", errors="strict"), encoding, delimiter


def _whole_file_encoding(handle: BinaryIO, guess: str) -> str:
    """Confirm the guess over the whole file; a UTF-8 guess that fails further on is Windows-1252."""
    candidates = [guess, "cp1252"] if guess == "utf-8" else [guess]
    for candidate in candidates:
        handle.seek(0)
        decoder = codecs.getincrementaldecoder(candidate)()
        line = 1
        try:
            while chunk := handle.read(1 << 20):
                line += decoder.decode(chunk).count("\n")
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return candidate
    raise FileError(f"near line {line}: the file is not valid {guess} text (pass --encoding if you know it)")


def _check_structure(handle: BinaryIO, encoding: str, delimiter: str) -> None:
    handle.seek(0)
    stream = io.TextIOWrapper(handle, encoding=encoding, newline="", errors="replace")
    try:
        reader = csv.reader(stream, delimiter=delimiter)
        previous = 0
        for _ in reader:
            if reader.line_num - previous > MAX_RECORD_LINES:
                raise FileError(
                    f"line {previous + 1}: a quoted cell runs over {MAX_RECORD_LINES} lines: is a quote never closed?"
                )
            previous = reader.line_num
    except csv.Error as exc:
        if "field limit" in str(exc):  # no row is that long; a cell that is was never closed
            raise FileError(CELL_TOO_LONG.format(line=reader.line_num, limit=csv.field_size_limit())) from exc
        raise FileError(f"line {reader.line_num}: {exc}") from exc
    finally:
        stream.detach()  # leave the file open for the real read
