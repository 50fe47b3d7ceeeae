"""reportlab's TrueType face with the file mapped and its per-character tables compact.

reportlab reads the whole file into bytes and parses every table it subsets from into Python
objects: a dict per character for glyph ids and another for widths, a tuple per glyph for its metrics,
an int per glyph for its offset. For a CJK face (35,000 characters, 50,000 glyphs) that is 17 MB
where the file is 4.6 MB. Here the file is mapped (only the pages read are in memory, shared with
the page cache), glyph ids are two sorted arrays, and metrics and offsets are read from the file
when reportlab asks for them. Every value is the one reportlab's own parse gives (a test compares
them for every face we ship), so the subsets it embeds are the same bytes.
"""

from __future__ import annotations

import mmap
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterator
from fnmatch import fnmatch
from pathlib import Path
from struct import unpack_from
from weakref import WeakKeyDictionary

from reportlab.pdfbase.ttfonts import TTEncoding, TTFError, TTFont, TTFontFace
from reportlab.rl_config import unShapedFontGlob


class CharacterMap:
    """Code point -> glyph id, as reportlab's dict of the same cmap subtable holds them (codes that
    map to glyph 0 included), in two sorted arrays: 6 bytes a character instead of about 90.
    Codes added later (reportlab's space alias, our private-use glyph codes) go in a small dict."""

    __slots__ = ("_added", "_codes", "_glyphs")

    def __init__(self, pairs: Iterator[tuple[int, int]] | dict[int, int]) -> None:
        codes, glyphs = array("I"), array("I")
        for code, glyph in pairs.items() if isinstance(pairs, dict) else pairs:
            codes.append(code)
            glyphs.append(glyph)
        if any(a >= b for a, b in zip(codes, codes[1:], strict=False)):  # segments overlap: the last one wins
            merged = dict(zip(codes, glyphs, strict=True))
            codes, glyphs = array("I", sorted(merged)), array("I")
            glyphs.extend(merged[code] for code in codes)
        if glyphs and max(glyphs) <= 0xFFFF:
            glyphs = array("H", glyphs)
        self._codes, self._glyphs = codes, glyphs
        self._added: dict[int, int] = {}

    def _index(self, code: int) -> int:
        index = bisect_left(self._codes, code)
        return index if index < len(self._codes) and self._codes[index] == code else -1

    def __contains__(self, code: object) -> bool:
        return code in self._added or (isinstance(code, int) and self._index(code) >= 0)

    def __getitem__(self, code: int) -> int:
        if code in self._added:
            return self._added[code]
        index = self._index(code)
        if index < 0:
            raise KeyError(code)
        return self._glyphs[index]

    def get(self, code: int, default: int | None = None) -> int | None:
        return self[code] if code in self else default

    def __setitem__(self, code: int, glyph: int) -> None:
        self._added[code] = glyph

    def items(self) -> Iterator[tuple[int, int]]:
        added = self._added
        yield from ((code, glyph) for code, glyph in zip(self._codes, self._glyphs, strict=True) if code not in added)
        yield from added.items()

    def keys(self) -> Iterator[int]:
        return (code for code, _ in self.items())

    __iter__ = keys

    def __len__(self) -> int:
        return len(self._codes) + sum(1 for code in self._added if self._index(code) < 0)


class HorizontalMetrics:
    """reportlab's ``hmetrics`` list, (advance, left side bearing) per glyph, read from hmtx when asked.

    As reportlab builds it: glyphs past numberOfHMetrics get the last advance *scaled* to 1/1000 em
    (its parse appends the variable it has already scaled), which is what its subsets then embed."""

    __slots__ = ("_data", "_last_advance", "_length", "_long", "_offset", "_scale")

    def __init__(
        self, data: mmap.mmap, offset: int, long_count: int, glyph_count: int, scale: Callable[[int], float]
    ) -> None:
        if long_count == 0:
            raise TTFError("Number of horizontal metrics is 0")
        self._data, self._offset, self._long, self._scale = data, offset, long_count, scale
        self._length = max(long_count, glyph_count)
        self._last_advance = scale(unpack_from(">H", data, offset + 4 * (long_count - 1))[0])

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, glyph: int) -> tuple[float, int]:
        if glyph < 0:
            glyph += self._length
        if not 0 <= glyph < self._length:
            raise IndexError(glyph)
        if glyph < self._long:
            return unpack_from(">HH", self._data, self._offset + 4 * glyph)
        lsb = unpack_from(">H", self._data, self._offset + 4 * self._long + 2 * (glyph - self._long))[0]
        return self._last_advance, lsb

    def width(self, glyph: int) -> float:
        """A glyph's advance in 1/1000 em, as reportlab's charWidths holds it for the glyph's characters."""
        if glyph < self._long:
            return self._scale(unpack_from(">H", self._data, self._offset + 4 * glyph)[0])
        return self[glyph][0]


class GlyphOffsets:
    """reportlab's ``glyphPos`` list (each glyph's offset in glyf, and the end), read from loca when asked."""

    __slots__ = ("_data", "_format", "_length", "_offset")

    def __init__(self, data: mmap.mmap, offset: int, index_format: int, glyph_count: int) -> None:
        if index_format not in (0, 1):
            raise TTFError(f"Unknown location table format ({index_format})")
        self._data, self._offset, self._format, self._length = data, offset, index_format, glyph_count + 1

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, glyph: int) -> int:
        if glyph < 0:
            glyph += self._length
        if not 0 <= glyph < self._length:
            raise IndexError(glyph)
        if self._format == 0:
            return unpack_from(">H", self._data, self._offset + 2 * glyph)[0] << 1
        return unpack_from(">L", self._data, self._offset + 4 * glyph)[0]


class _MappedTable:
    """A table reportlab slices glyph by glyph (glyf): each slice is read from the mapped file, so
    making a subset no longer copies the whole table first (4–6 MB for a CJK face)."""

    __slots__ = ("_data", "_length", "_offset")

    def __init__(self, data: mmap.mmap, offset: int, length: int) -> None:
        self._data, self._offset, self._length = data, offset, length

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, part: slice) -> bytes:
        start, stop, _ = part.indices(self._length)
        return self._data[self._offset + start : self._offset + max(start, stop)]


class MappedFace(TTFontFace):
    """reportlab's TrueType face, parsed by reportlab except for the per-character tables (see the module)."""

    def readFile(self, f: str) -> None:
        if not hasattr(self, "_ttf_data"):  # mapped, not read (reportlab reads the whole file into bytes)
            self.filename = f
            with open(f, "rb") as file:
                self._ttf_data = mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)
        self._pos = 0

    def get_table(self, tag: str):
        if tag == "glyf":
            return _MappedTable(self._ttf_data, *self.get_table_pos(tag))
        return super().get_table(tag)

    def extractInfo(self, charInfo: int = 1) -> None:
        super().extractInfo(charInfo=0)  # names, metrics, flags: all but the per-character tables
        data = self._ttf_data
        if unpack_from(">H", data, self.seek_table("head", 52))[0] != 0:
            raise TTFError("Unknown glyph data format")
        if "loca" not in self.table:
            raise TTFError("missing location table")
        pairs = self._cmap_pairs()
        if pairs is None:  # a subtable format our faces do not use: reportlab's own parse, compacted below
            super().extractInfo(charInfo=1)
            pairs = self.charToGlyph
        long_metrics = unpack_from(">H", data, self.seek_table("hhea", 34))[0]
        self.hmetrics = HorizontalMetrics(data, self.seek_table("hmtx"), long_metrics, self.numGlyphs, self._pdfScale)
        index_format = unpack_from(">H", data, self.seek_table("head", 50))[0]
        self.glyphPos = GlyphOffsets(data, self.seek_table("loca"), index_format, self.numGlyphs)
        self.defaultWidth = self.hmetrics.width(0)
        self.charToGlyph = cmap = CharacterMap(pairs)
        self.glyphToChar = {}  # served only reportlab's HarfBuzz mode, which we do not use
        self.charWidths: dict[int, float] = {}  # filled as codes are drawn (see width_of)
        if 0x20 in cmap:  # as reportlab does: a no-break space is drawn as a space
            cmap[0xA0] = cmap[0x20]
        elif 0xA0 in cmap:
            cmap[0x20] = cmap[0xA0]

    def _cmap_pairs(self) -> Iterator[tuple[int, int]] | None:
        """(code, glyph) from the subtable reportlab picks, in its order; None for a format other than 4 or 12."""
        data = self._ttf_data
        cmap_offset = self.seek_table("cmap")
        version, count = unpack_from(">HH", data, cmap_offset)
        if count == 0 and version != 0:
            count = version
        chosen, unicode_found = None, False
        for n in range(count):  # reportlab's choice, kept exactly: the last Unicode subtable listed
            platform, encoding, offset = unpack_from(">HHL", data, cmap_offset + 4 + 8 * n)
            if platform == 3 or (platform == 1 and encoding == 1) or (platform == 0 and encoding != 5):
                chosen, unicode_found = offset, True
            elif platform == 1 and encoding == 0 and not unicode_found:
                chosen = offset
        if chosen is None:
            raise TTFError("could not find a suitable cmap encoding")
        start = cmap_offset + chosen
        subtable_format = unpack_from(">H", data, start)[0]
        if subtable_format == 4:
            return self._format4(start)
        if subtable_format == 12:
            return self._format12(start)
        return None

    def _format4(self, start: int) -> Iterator[tuple[int, int]]:
        data = self._ttf_data
        length = unpack_from(">H", data, start + 2)[0]
        segments = unpack_from(">H", data, start + 6)[0] // 2
        ends = unpack_from(f">{segments}H", data, start + 14)
        starts = unpack_from(f">{segments}H", data, start + 16 + 2 * segments)
        deltas = unpack_from(f">{segments}h", data, start + 16 + 4 * segments)
        range_offsets_at = start + 16 + 6 * segments
        range_offsets = unpack_from(f">{segments}H", data, range_offsets_at)
        limit = start + length
        for n in range(segments):
            first, delta, range_offset = starts[n], deltas[n], range_offsets[n]
            for code in range(first, ends[n] + 1):
                if range_offset == 0:
                    yield code, (code + delta) & 0xFFFF
                    continue
                at = range_offsets_at + 2 * n + (code - first) * 2 + range_offset
                glyph = unpack_from(">H", data, at)[0] if at < limit else 0  # past the end: broken fonts
                yield code, (glyph + delta) & 0xFFFF if glyph else 0

    def _format12(self, start: int) -> Iterator[tuple[int, int]]:
        data = self._ttf_data
        groups = unpack_from(">L", data, start + 12)[0]
        for n in range(groups):
            first, last, first_glyph = unpack_from(">3L", data, start + 16 + 12 * n)
            for code in range(first, last + 1):
                yield code, code + first_glyph - first

    def width_of(self, code: int) -> float:
        """What reportlab's parse puts in charWidths for ``code``: its glyph's advance in 1/1000 em, else
        (no glyph) the default width. Drawn codes are kept in charWidths, which reportlab's C
        accelerator reads as a dict to move the text cursor."""
        if code in self.charWidths:
            return self.charWidths[code]
        glyph = self.charToGlyph.get(code)
        if glyph is None or glyph >= len(self.hmetrics):
            return self.defaultWidth
        return self.hmetrics.width(glyph)

    def getCharWidth(self, code: int) -> float:  # the /Widths of each subset
        return self.width_of(code)


class MappedTTFont(TTFont):
    """reportlab's TTFont on a MappedFace: its constructor, with the face swapped."""

    def __init__(self, name: str, path: Path, subfont: int = 0) -> None:
        self.fontName = name
        self.face = MappedFace(str(path), subfontIndex=subfont)
        self.encoding = TTEncoding()
        self.state = WeakKeyDictionary()
        self._asciiReadable = 0  # no ASCII block in the subsets: smaller files, and ours are not ASCII
        self.shapable = not any(fnmatch(name, pattern) for pattern in unShapedFontGlob)  # as reportlab sets it
