"""The fonts certificates are printed with: all installed by requirements.txt, none from the system.

Each chain starts with the design's Latin/Cyrillic/Greek face and falls back, character by character,
to a face for each other script. All are TrueType-outline fonts (reportlab refuses CFF outlines).
"""

from __future__ import annotations

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

from .text import FontFile, load_chain

SANS = FontFile("LaurelSans", fontpkg_noto_sans.ROOT / "files" / "NotoSans[wdth,wght].ttf")
SERIF = FontFile("LaurelSerif", fontpkg_noto_serif.ROOT / "files" / "NotoSerif[wdth,wght].ttf")
_ROOT = {
    "arabic": fontpkg_noto_sans_arabic.ROOT / "files" / "NotoSansArabic[wdth,wght].ttf",
    "hebrew": fontpkg_heebo.ROOT / "files" / "Heebo[wght].ttf",
    "devanagari": fontpkg_noto_sans_devanagari.ROOT / "files" / "NotoSansDevanagari[wdth,wght].ttf",
    "bengali": fontpkg_hind_siliguri.ROOT / "files" / "HindSiliguri-Regular.ttf",
    "tamil": fontpkg_noto_sans_tamil.ROOT / "files" / "NotoSansTamil[wdth,wght].ttf",
    "thai": fontpkg_noto_sans_thai.ROOT / "files" / "NotoSansThai[wdth,wght].ttf",
    "khmer": fontpkg_noto_sans_khmer.ROOT / "files" / "NotoSansKhmer[wdth,wght].ttf",
}
# WenQuanYi Micro Hei (Apache 2.0, licence beside it): TrueType outlines for Chinese, Japanese kana
# and Korean Hangul. Shipped in the repository: no maintained package on PyPI carries it.
CJK = FontFile("LaurelCJK", Path(__file__).resolve().parent / "fonts" / "WenQuanYiMicroHei.ttf")
FALLBACKS = (*(FontFile(f"Laurel{script.title()}", path) for script, path in _ROOT.items()), CJK)

SANS_CHAIN = (SANS, *FALLBACKS)
SERIF_CHAIN = (SERIF, *FALLBACKS)


def sans():
    return load_chain(SANS_CHAIN)


def serif():
    return load_chain(SERIF_CHAIN)
