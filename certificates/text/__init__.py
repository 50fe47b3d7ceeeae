"""Text layout for certificates in every script. Pure: text and a font set in, positioned glyphs out.

reportlab alone neither shapes (Arabic joining, Indic conjuncts) nor reorders right-to-left text, so
(docs/SCRIPTS.md shows the result per script):
1. the text is normalised to NFC and each character gets its bidi embedding level (python-bidi's
   reference implementation, UAX #9 up to rule I2);
2. each character gets the face of its script (Unicode's Scripts.txt, via fontTools) that covers
   it; marks, joiners, spaces and punctuation stay with the face before them; the text splits into
   runs of one face and level;
3. HarfBuzz shapes each run; runs are put in visual order (rule L2);
4. glyphs are drawn one by one at HarfBuzz's positions through reportlab's TrueType subsetting.
   Glyphs with no character of their own (ligatures, positional forms, conjuncts) are drawn by the
   private-use code point 0xF0000 + glyph id, so the same text always gives the same bytes.
   Each run is wrapped in a marked-content span whose /ActualText is what was typed (per cluster in
   right-to-left runs), so text extraction returns the name rather than private-use code points.

The modules, in the order a line goes through them: ``faces`` (font files, loaded once per process),
``fontset`` (which face draws each character), ``shaping`` (runs, HarfBuzz, visual order; what would
print as a box), ``extraction`` (drawing, with what copy-paste should return); and ``truetype``
(reportlab's face, with the file mapped and its per-character tables compact).
"""

from .extraction import draw, extraction_order
from .faces import Font, FontFile, load_face, loaded_faces, static_instance
from .fontset import FontSet
from .shaping import Glyph, Line, Run, clean, describe, layout, uncovered

__all__ = [
    "Font",
    "FontFile",
    "FontSet",
    "Glyph",
    "Line",
    "Run",
    "clean",
    "describe",
    "draw",
    "extraction_order",
    "layout",
    "load_face",
    "loaded_faces",
    "static_instance",
    "uncovered",
]
