"""Which face draws each character: a design's faces by script and language, and the last resort."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from functools import cache

from fontTools import unicodedata as unicode_scripts

from .faces import Font, FontFile, load_face


def _inherits_font(char: str) -> bool:
    """Marks, joiners, spaces, punctuation and digits belong with the script around them."""
    return unicodedata.category(char)[0] in "MZPNCS"


_NO_SCRIPT = {"Zyyy", "Zinh", "Zzzz"}  # common, inherited, unknown: they take a neighbour's font


class FontSet:
    """A design's fonts: its base face (Latin, Greek, Cyrillic), a face per other script, and
    fallbacks for symbols. A face is loaded the first time a text needs it, so the sixty-odd
    scripts cost nothing until a name in one of them arrives.

    ``by_script`` maps ISO 15924 codes (``Arab``, ``Hani``…) to faces in order of preference; the
    language (from the course's locale, or guessed from the text) puts its own faces first: Urdu's
    Nastaliq for Arabic, Japanese glyph forms for Han characters.
    """

    def __init__(
        self,
        base: FontFile,
        by_script: Mapping[str, tuple[FontFile, ...]],
        fallbacks: tuple[FontFile, ...] = (),
        by_language: Mapping[tuple[str, str], FontFile] | None = None,
        language: str = "",
    ) -> None:
        self.base, self.by_script, self.fallbacks = base, by_script, fallbacks
        self.by_language, self.language = by_language or {}, language

    @property
    def primary(self) -> Font:
        return load_face(self.base)

    def with_language(self, language: str) -> FontSet:
        if language == self.language:
            return self
        return FontSet(self.base, self.by_script, self.fallbacks, self.by_language, language)

    def for_text(self, text: str) -> FontSet:
        """Japanese or Korean glyph forms for Han characters when the text itself says so."""
        if self.language:
            return self
        if any(_script(char) in ("Hira", "Kana") for char in text):
            return self.with_language("ja")
        if any(_script(char) == "Hang" for char in text):
            return self.with_language("ko")
        return self

    def _specs(self, char: str) -> list[FontFile]:
        extensions = _script_extensions(char)
        # A character shared by Latin, Greek or Cyrillic and others stays with the design's face.
        base_first = bool(extensions & {"Latn", "Grek", "Cyrl"})
        specs: list[FontFile] = [self.base] if base_first else []
        for script in dict.fromkeys([_script(char), *sorted(extensions)]):
            if script in _NO_SCRIPT:
                continue
            if preferred := self.by_language.get((self.language, script)):
                specs.append(preferred)
            specs.extend(self.by_script.get(script, ()))
        return [*specs, self.base, *self.fallbacks]

    def font_for(self, char: str, previous: Font | None = None) -> Font | None:
        """The face that draws ``char``: its neighbour's for marks, punctuation and characters many
        scripts share (a tatweel must not break an Arabic run), else its script's; else the first
        face of all that has it (fullwidth brackets, mathematical signs: Common, but in few faces)."""
        if previous is not None and previous.covers(char):
            if _inherits_font(char) or _script(char) in _NO_SCRIPT:
                return previous
        for spec in self._specs(char):
            font = load_face(spec)
            if font.covers(char):
                return font
        owner = _coverage_index(self.everything()).get(ord(char))
        return load_face(owner) if owner is not None else None

    def everything(self) -> tuple[FontFile, ...]:
        """Every face, in a fixed order: the last resort for a character its script's faces lack."""
        faces = [self.base, *self.fallbacks, *(face for faces in self.by_script.values() for face in faces)]
        return tuple(dict.fromkeys([*faces, *self.by_language.values()]))

    def covers(self, char: str, previous: Font | None = None) -> bool:
        return self.font_for(char, previous) is not None


@cache
def _coverage_index(faces: tuple[FontFile, ...]) -> dict[int, FontFile]:
    """Code point -> the first face (in ``faces`` order) whose cmap has it. Read from the cmaps only,
    without loading a face, so asking about a rare character costs one scan, not sixty faces."""
    from fontTools.ttLib import TTFont as ToolsFont

    index: dict[int, FontFile] = {}
    for face in faces:
        path = face.instance_of or face.path  # a static cut has its variable source's cmap
        for code_point in ToolsFont(str(path), fontNumber=face.subfont, lazy=True).getBestCmap():
            index.setdefault(code_point, face)
    return index


@cache
def _script(char: str) -> str:
    return unicode_scripts.script(char)


@cache
def _script_extensions(char: str) -> frozenset[str]:
    return frozenset(unicode_scripts.script_extension(char))
