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
    """BOMs first, then UTF-8 or Windows-1252 line by line, then charset-normalizer (UTF-16 without a
    BOM, Shift-JIS, GB18030…).

    A sample whose lines are each UTF-8 or Windows-1252 (all but the odd broken one) is read line by
    line (``utf-8``, LineDecoder): Excel's "CSV" on Western-locale Windows, and files that mix the
    two. --encoding overrides.
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = sample.count(b"\x00") > len(sample) // 4
    if not utf16:
        lines = sample.splitlines()[:-1] or sample.splitlines()  # the last may be cut mid-character
        if all(_utf8_or_windows_1252(line) for line in lines):
            return "utf-8"
    best = from_bytes(sample).best()
    if best is None:
        raise FileError("cannot tell the file's text encoding (is it a spreadsheet, not a CSV?)")
    if not utf16 and (best.encoding.replace("_", "-") == "utf-8" or _single_byte(best.encoding)):
        # A broken line or two in a Western file (a guess of mac_iceland for one stray 0x81 is no
        # reason to read every line in it): per line, and the broken rows rejected with their number.
        return "utf-8"
    return best.encoding  # Shift-JIS, GB18030, Big5…: read whole


def _single_byte(encoding: str) -> bool:
    return len(bytes(range(256)).decode(encoding, errors="replace")) == 256


def _utf8_or_windows_1252(line: bytes) -> bool:
    for encoding in ("utf-8", "cp1252"):
        try:
            line.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


MAX_RECORD_LINES = 50  # a quoted cell longer than this is a quote that was never closed
CELL_TOO_LONG = "line {line}: a cell longer than {limit} characters: is a quote never closed?"


class LineDecoder:
    """An 8-bit export read line by line: each line as UTF-8 where it is UTF-8, else as Windows-1252.

    Files that were edited in Excel and appended to by a script mix the two; decoding the whole
    file as one encoding would turn every UTF-8 name into mojibake ("ZoÃ«"). A line that is
    neither (bytes Windows-1252 leaves undefined) is kept, marked, and its row reported.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.windows_1252_lines = 0
        self.undecodable: dict[int, str] = {}  # physical line number -> why

    def _physical_lines(self):
        for chunk in self.handle:  # split at \n; a lone \r (old Mac files) ends a line too
            yield from chunk.splitlines(keepends=True) if b"\r" in chunk.rstrip(b"\r\n") else (chunk,)

    def __iter__(self):
        for number, raw in enumerate(self._physical_lines(), start=1):
            if number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
                continue
            except UnicodeDecodeError:
                pass
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError as exc:
                byte = raw[exc.start]
                self.undecodable[number] = (
                    f"byte 0x{byte:02X} at position {exc.start + 1} is neither UTF-8 nor Windows-1252"
                )
                text = raw.decode("cp1252", errors="replace")
            else:
                self.windows_1252_lines += 1
            yield text


PER_LINE = "utf-8"  # and Windows-1252 for the lines that are not UTF-8 (LineDecoder counts them)


def open_export(handle: BinaryIO, encoding: str = ""):
    """Text lines, encoding and delimiter of a CSV export; raises ``FileError`` when unusable.

    The whole file is read once before anything is imported (a quote that is never closed, and the
    encoding of a UTF-16 or a named one), so a file that is unusable past its first rows imports
    nothing rather than half. UTF-8 and Windows-1252 files are decoded line by line (LineDecoder):
    one bad line is one rejected row, never the whole file.
    """
    sample = handle.read(_SAMPLE_BYTES)
    if not sample.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        raise FileError("the file is empty")
    if sample[:4] == b"PK\x03\x04" or sample[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileError("this is a spreadsheet (xlsx/xls), not a CSV: save it as CSV first")
    try:
        per_line = False
        if encoding:  # named by the user: that encoding, checked over the whole file before any row
            encoding = _whole_file_encoding(handle, codecs.lookup(encoding).name)
        else:
            guess = detect_encoding(sample)
            per_line = guess in ("utf-8", "utf-8-sig", "cp1252")
            encoding = PER_LINE if per_line else _whole_file_encoding(handle, guess)
    except LookupError as exc:
        raise FileError(f"unknown encoding {encoding!r}") from exc
    stream_encoding = "utf-8" if per_line else encoding
    text_sample = sample.decode(stream_encoding, errors="ignore")
    first_lines = "\n".join(text_sample.splitlines()[:20])
    try:
        delimiter = csv.Sniffer().sniff(first_lines, delimiters=",;\t|").delimiter
    except csv.Error:
        header = text_sample.splitlines()[0] if text_sample.splitlines() else ""
        delimiter = max(",;\t", key=header.count) if header else ","
    _check_structure(handle, stream_encoding, delimiter)
    handle.seek(0)
    if per_line:
        return LineDecoder(handle), encoding, delimiter
    return io.TextIOWrapper(handle, encoding=encoding, newline="", errors="strict"), encoding, delimiter


def _whole_file_encoding(handle: BinaryIO, guess: str) -> str:
    """Confirm a guess (UTF-16, or what charset-normalizer found) over the whole file."""
    for candidate in [guess]:
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
