"""The fonts certificates are printed with: none from the system, all TrueType outlines (reportlab
refuses CFF), all under the SIL Open Font License.

- Python packages where they exist: Noto Sans and Serif (Latin, Greek, Cyrillic), Arabic,
  Devanagari, Tamil, Thai, Khmer, Heebo (Hebrew), Hind Siliguri (Bengali), and Google Fonts' Noto
  Sans JP (justmytype-intl-cjk: a TrueType build of Noto Sans CJK JP, which ships CFF only) for
  Japanese glyph forms. Its default instance is Thin, so a Regular cut is made once into
  ``FONT_CACHE_DIR`` (``manage.py prepare_fonts``; ``make run`` does it).
- WenQuanYi Micro Hei (Apache 2.0, in ``fonts/``): Chinese and Korean, in one static TrueType face.
- Every other living script Noto covers: the Regular files of Debian's fonts-noto-core and
  fonts-noto-extra, shipped in ``fonts/noto`` with their licence.

A design's base face prints Latin, Greek and Cyrillic; each other character goes to its script's
face (text.FontSet), which is loaded the first time a text needs it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fontpkg_heebo
import fontpkg_hind_siliguri
import fontpkg_noto_sans
import fontpkg_noto_sans_arabic
import fontpkg_noto_sans_devanagari
import fontpkg_noto_sans_khmer
import fontpkg_noto_sans_tamil
import fontpkg_noto_sans_thai
import fontpkg_noto_serif
import justmytype_intl_cjk
from django.conf import settings

from .text import FontFile, FontSet

NOTO = Path(__file__).resolve().parent / "fonts" / "noto"
_CJK = Path(justmytype_intl_cjk.__file__).resolve().parent / "fonts" / "ofl"


def _noto(script: str, family: str) -> FontFile:
    return FontFile(f"Laurel{script}", NOTO / f"{family}-Regular.ttf")


def _package(script: str, path: Path) -> FontFile:
    return FontFile(f"Laurel{script}", path)


SANS = FontFile("LaurelSans", fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf")
SERIF = FontFile("LaurelSerif", fontpkg_noto_serif.ROOT / "files" / "NotoSerif[wdth,wght].ttf")

#: Chinese (Simplified and Traditional characters, in Chinese forms), kana and Hangul.
CJK = FontFile("LaurelCJK", Path(__file__).resolve().parent / "fonts" / "WenQuanYiMicroHei.ttf")


def _cut_name(source: Path, weight: int) -> str:
    """Names what the cut is made from (source bytes, weight, fontTools version), so a machine with
    an older cut never prints different bytes from one that made it afresh."""
    import hashlib

    import fontTools

    digest = hashlib.sha256(f"{source.stat().st_size}:{source.name}:{weight}:{fontTools.version}".encode())
    return f"{source.stem.split('[')[0]}-{weight}-{digest.hexdigest()[:12]}.ttf"


_JP_SOURCE = _CJK / "notosansjp" / "NotoSansJP[wght].ttf"
JAPANESE = FontFile("LaurelJpan", Path(settings.FONT_CACHE_DIR) / _cut_name(_JP_SOURCE, 400), instance_of=_JP_SOURCE)
NASTALIQ = _noto("Aran", "NotoNastaliqUrdu")

#: ISO 15924 script code -> faces, preferred first. Han is drawn in Chinese forms unless the
#: language is Japanese (the course's locale, or kana in the same text): BY_LANGUAGE.
BY_SCRIPT: dict[str, tuple[FontFile, ...]] = {
    "Arab": (_package("Arab", fontpkg_noto_sans_arabic.ROOT / "files" / "NotoSansArabic[wdth,wght].ttf"),),
    "Hebr": (_package("Hebr", fontpkg_heebo.ROOT / "files" / "Heebo[wght].ttf"),),
    "Deva": (_package("Deva", fontpkg_noto_sans_devanagari.ROOT / "files" / "NotoSansDevanagari[wdth,wght].ttf"),),
    "Beng": (_package("Beng", fontpkg_hind_siliguri.ROOT / "files" / "HindSiliguri-Regular.ttf"),),
    "Taml": (_package("Taml", fontpkg_noto_sans_tamil.ROOT / "files" / "NotoSansTamil[wdth,wght].ttf"),),
    "Thai": (_package("Thai", fontpkg_noto_sans_thai.ROOT / "files" / "NotoSansThai[wdth,wght].ttf"),),
    "Khmr": (_package("Khmr", fontpkg_noto_sans_khmer.ROOT / "files" / "NotoSansKhmer[wdth,wght].ttf"),),
    "Hani": (CJK, JAPANESE),
    "Hira": (JAPANESE, CJK),
    "Kana": (JAPANESE, CJK),
    "Hang": (CJK,),
    "Bopo": (CJK,),
    **{
        script: (_noto(script, family),)
        for script, family in {
            "Adlm": "NotoSansAdlam",
            "Armn": "NotoSansArmenian",
            "Bali": "NotoSansBalinese",
            "Bamu": "NotoSansBamum",
            "Bass": "NotoSansBassaVah",
            "Batk": "NotoSansBatak",
            "Bugi": "NotoSansBuginese",
            "Cakm": "NotoSansChakma",
            "Cans": "NotoSansCanadianAboriginal",
            "Cham": "NotoSansCham",
            "Cher": "NotoSansCherokee",
            "Ethi": "NotoSansEthiopic",
            "Geor": "NotoSansGeorgian",
            "Gong": "NotoSansGunjalaGondi",
            "Gonm": "NotoSansMasaramGondi",
            "Gujr": "NotoSansGujarati",
            "Guru": "NotoSansGurmukhi",
            "Hmng": "NotoSansPahawhHmong",
            "Java": "NotoSansJavanese",
            "Kali": "NotoSansKayahLi",
            "Knda": "NotoSansKannada",
            "Lana": "NotoSansTaiTham",
            "Laoo": "NotoSansLao",
            "Lepc": "NotoSansLepcha",
            "Limb": "NotoSansLimbu",
            "Lisu": "NotoSansLisu",
            "Mand": "NotoSansMandaic",
            "Medf": "NotoSansMedefaidrin",
            "Mend": "NotoSansMendeKikakui",
            "Mlym": "NotoSansMalayalam",
            "Mong": "NotoSansMongolian",
            "Mroo": "NotoSansMro",
            "Mtei": "NotoSansMeeteiMayek",
            "Mymr": "NotoSansMyanmar",
            "Newa": "NotoSansNewa",
            "Nkoo": "NotoSansNKo",
            "Nshu": "NotoSansNushu",
            "Olck": "NotoSansOlChiki",
            "Orya": "NotoSansOriya",
            "Osge": "NotoSansOsage",
            "Plrd": "NotoSansMiao",
            "Rohg": "NotoSansHanifiRohingya",
            "Samr": "NotoSansSamaritan",
            "Saur": "NotoSansSaurashtra",
            "Sinh": "NotoSansSinhala",
            "Sora": "NotoSansSoraSompeng",
            "Sund": "NotoSansSundanese",
            "Sylo": "NotoSansSylotiNagri",
            "Syrc": "NotoSansSyriac",
            "Tale": "NotoSansTaiLe",
            "Talu": "NotoSansNewTaiLue",
            "Tavt": "NotoSansTaiViet",
            "Telu": "NotoSansTelugu",
            "Tfng": "NotoSansTifinagh",
            "Tglg": "NotoSansTagalog",
            "Thaa": "NotoSansThaana",
            "Tibt": "NotoSerifTibetan",
            "Vaii": "NotoSansVai",
            "Wara": "NotoSansWarangCiti",
            "Wcho": "NotoSansWancho",
            "Yiii": "NotoSansYi",
        }.items()
    },
}
#: (language, script) -> the face that language's readers expect.
BY_LANGUAGE: dict[tuple[str, str], FontFile] = {
    ("ur", "Arab"): NASTALIQ,
    ("ja", "Hani"): JAPANESE,
}
#: Symbols no script owns (arrows, stars, dingbats, some pictographs).
FALLBACKS = (_noto("Zsym", "NotoSansSymbols"), _noto("Zsye", "NotoSansSymbols2"))


def language_of(locale: str) -> str:
    """The language of a locale, where it asks for glyph forms of its own (``ja``, ``ur``) or rules
    out guessing them from the text (``zh``, ``ko``); otherwise ''."""
    language = (locale or "").replace("_", "-").lower().split("-")[0]
    return language if language in ("ja", "ur", "zh", "ko") else ""


@cache
def sans(locale: str = "") -> FontSet:
    return FontSet(SANS, BY_SCRIPT, FALLBACKS, BY_LANGUAGE, language_of(locale))


@cache
def serif(locale: str = "") -> FontSet:
    return FontSet(SERIF, BY_SCRIPT, FALLBACKS, BY_LANGUAGE, language_of(locale))


def all_font_files() -> list[FontFile]:
    """Every face a certificate may use (for checks and the benchmark)."""
    faces = [SANS, SERIF, *(face for faces in BY_SCRIPT.values() for face in faces), NASTALIQ, JAPANESE, *FALLBACKS]
    return list(dict.fromkeys(faces))
