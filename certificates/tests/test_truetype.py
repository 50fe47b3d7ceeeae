"""The compact reportlab face (certificates/text/truetype.py) holds what reportlab's own parse holds."""

import pytest
from reportlab.pdfbase.ttfonts import TTFont

from certificates import fonts, text
from certificates.text import truetype

#: Compared value by value below, or not comparable (the file, the scale function, the parse cursor).
_COMPACTED = {"charToGlyph", "charWidths", "glyphToChar", "hmetrics", "glyphPos", "_ttf_data", "_pdfScale", "_pos"}


def _name(spec: fonts.FontFile) -> str:
    return spec.name


def _assert_same_as_reportlab(spec: fonts.FontFile) -> None:
    original = TTFont(spec.name, str(spec.path), subfontIndex=spec.subfont, asciiReadable=0)
    mapped = truetype.MappedTTFont(spec.name, spec.path, spec.subfont)
    assert set(vars(mapped)) == set(vars(original))
    assert {key: value for key, value in vars(mapped).items() if key not in ("face", "state", "encoding")} == {
        key: value for key, value in vars(original).items() if key not in ("face", "state", "encoding")
    }
    face, expected = mapped.face, original.face
    assert set(vars(face)) == set(vars(expected))
    assert {key: value for key, value in vars(face).items() if key not in _COMPACTED} == {
        key: value for key, value in vars(expected).items() if key not in _COMPACTED
    }
    assert dict(face.charToGlyph.items()) == expected.charToGlyph
    assert len(face.charToGlyph) == len(expected.charToGlyph)
    assert list(face.hmetrics) == expected.hmetrics
    assert list(face.glyphPos) == expected.glyphPos
    # Widths as the PDF's /Widths arrays get them: the same values of the same types (int or float).
    widths = [(code, repr(face.getCharWidth(code))) for code in expected.charToGlyph]
    assert widths == [(code, repr(expected.getCharWidth(code))) for code in expected.charToGlyph]
    assert repr(face.getCharWidth(0x10FFFF)) == repr(expected.defaultWidth)
    codes = sorted(expected.charToGlyph)
    subset = [0, 32, *codes[:: max(1, len(codes) // 300)]]
    assert face.makeSubset(subset) == expected.makeSubset(subset)


@pytest.mark.parametrize("spec", fonts.all_font_files(), ids=_name)
def test_every_face_holds_what_reportlab_parses_and_subsets_the_same_bytes(spec):
    text.static_instance(spec)  # the Japanese cut, made once
    _assert_same_as_reportlab(spec)


def test_a_cmap_format_other_than_4_or_12_goes_through_reportlabs_own_parse(monkeypatch):
    monkeypatch.setattr(truetype.MappedFace, "_cmap_pairs", lambda face: None)
    _assert_same_as_reportlab(fonts.BY_SCRIPT["Cher"][0])


def test_the_character_map_reads_like_a_dict():
    cmap = truetype.CharacterMap(iter([(0x41, 3), (0x42, 4), (0x1F600, 70000)]))
    assert 0x41 in cmap and 0x43 not in cmap and "A" not in cmap
    assert (cmap[0x42], cmap.get(0x43), cmap.get(0x43, 0), cmap[0x1F600]) == (4, None, 0, 70000)
    with pytest.raises(KeyError):
        cmap[0x43]
    cmap[0x43] = 5
    cmap[0x41] = 6
    assert dict(cmap.items()) == {0x41: 6, 0x42: 4, 0x43: 5, 0x1F600: 70000} and len(cmap) == 4


def test_overlapping_segments_keep_the_last_mapping_as_reportlabs_dict_does():
    cmap = truetype.CharacterMap(iter([(0x41, 3), (0x42, 4), (0x42, 9), (0x40, 1)]))
    assert dict(cmap.items()) == {0x40: 1, 0x41: 3, 0x42: 9}


@pytest.mark.parametrize("spec", [fonts.CJK, fonts.JAPANESE, fonts.SANS, fonts.BY_SCRIPT["Adlm"][0]], ids=_name)
def test_a_face_covers_exactly_the_characters_its_cmap_has(spec):
    original = TTFont(spec.name, str(text.static_instance(spec)), asciiReadable=0).face.charToGlyph
    face = text.load_face(spec)
    covered = [code for code in range(max(original) + 2) if face.covers(chr(code))]
    assert covered == sorted(original)
