"""One name per script: shared by the tests, the gallery (docs/SCRIPTS.md) and the benchmark."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Sample:
    script: str  # ISO 15924: the face fonts.BY_SCRIPT (or BY_LANGUAGE, for the locale) gives it
    name: str
    locale: str = ""  # the course's locale, where the script's readers expect their own glyph forms


SAMPLES = {
    "Latin": Sample("Latn", "Zoë Ångström-Łukasiewicz"),
    "Vietnamese (Latin)": Sample("Latn", "Nguyễn Thị Minh Khai"),
    "Cyrillic": Sample("Cyrl", "Иван Петрович Смирнов"),
    "Greek": Sample("Grek", "Έλενα Παπαδοπούλου"),
    "Chinese (Simplified)": Sample("Hani", "李小龙"),
    "Chinese (Traditional)": Sample("Hani", "張學友", "zh-TW"),
    "Japanese": Sample("Jpan", "山田 はなこ", "ja"),
    "Japanese (kanji only)": Sample("Jpan", "渡辺 直樹", "ja"),
    "Korean": Sample("Hang", "김민준"),
    "Arabic": Sample("Arab", "محمد عبد الله"),
    "Urdu (Nastaliq)": Sample("Aran", "عمران احمد خان", "ur"),
    "Hebrew": Sample("Hebr", "יעל כהן"),
    "Syriac": Sample("Syrc", "ܡܪܝܡ ܝܘܚܢܢ"),
    "Thaana": Sample("Thaa", "މުހައްމަދު ނަޝީދު"),
    "N'Ko": Sample("Nkoo", "ߛߟߏߡߊ߲ ߞߊ߲ߕߍ"),
    "Adlam": Sample("Adlm", "𞤀𞤥𞤢𞤣𞤵 𞤄𞤢𞥄"),
    "Devanagari": Sample("Deva", "अर्जुन क्षत्रिय"),
    "Bengali": Sample("Beng", "রবীন্দ্রনাথ ঠাকুর"),
    "Gurmukhi": Sample("Guru", "ਗੁਰਪ੍ਰੀਤ ਸਿੰਘ"),
    "Gujarati": Sample("Gujr", "નરેન્દ્ર પટેલ"),
    "Oriya": Sample("Orya", "ପ୍ରିୟଙ୍କା ମହାନ୍ତି"),
    "Tamil": Sample("Taml", "தமிழ்செல்வி"),
    "Telugu": Sample("Telu", "వెంకటేశ్వర రావు"),
    "Kannada": Sample("Knda", "ಪುಟ್ಟಪ್ಪ ಕುವೆಂಪು"),
    "Malayalam": Sample("Mlym", "മോഹൻലാൽ വിശ്വനാഥൻ"),
    "Sinhala": Sample("Sinh", "කුමාර් සංගක්කාර"),
    "Thai": Sample("Thai", "สมศักดิ์ น้ำใจดี"),
    "Lao": Sample("Laoo", "ສຸລິຍາ ພົມມະຈັນ"),
    "Khmer": Sample("Khmr", "សុខ វណ្ណា"),
    "Myanmar": Sample("Mymr", "အောင်ဆန်း စုကြည်"),
    "Tibetan": Sample("Tibt", "བསྟན་འཛིན་རྒྱ་མཚོ"),
    "Mongolian": Sample("Mong", "ᠪᠠᠲᠤ ᠲᠥᠮᠥᠷ"),
    "Armenian": Sample("Armn", "Արամ Խաչատրյան"),
    "Georgian": Sample("Geor", "ნინო ბერიძე"),
    "Ethiopic": Sample("Ethi", "አበበ ቢቂላ"),
    "Tifinagh": Sample("Tfng", "ⵢⵓⴱⴰ ⴰⵎⴰⵣⵉⵖ"),
    "Vai": Sample("Vaii", "ꕉꕜꕮ ꔔꘋ"),
    "Cherokee": Sample("Cher", "ᏎᏉᏯ ᎬᏍᏗ"),
    "Canadian Syllabics": Sample("Cans", "ᐊᓯᕙᖅ ᕿᓪᓗᐊᖅ"),
    "Ol Chiki": Sample("Olck", "ᱨᱟᱜᱷᱩᱱᱟᱛᱷ ᱢᱩᱨᱢᱩ"),
    "Javanese": Sample("Java", "ꦱꦸꦏꦂꦤꦺꦴ"),
    "Balinese": Sample("Bali", "ᬫᬤᬾ ᬯᬶᬭ"),
    "Sundanese": Sample("Sund", "ᮃᮚᮥ ᮞᮥᮔ᮪ᮓ"),
    "Meetei Mayek": Sample("Mtei", "ꯃꯦꯔꯤ ꯀꯣꯝ"),
    "Yi": Sample("Yiii", "ꀉꂿ ꃅꄿ"),
    "Lisu": Sample("Lisu", "ꓡꓲ ꓫꓵ"),
    "Osage": Sample("Osge", "𐒻𐓟𐓲𐓣𐓟"),
}
NAMES_BY_SCRIPT = {label: sample.name for label, sample in SAMPLES.items()}
#: Scripts whose letters change shape, join, reorder or stack: HarfBuzz decides the glyphs, which differ
#: from one glyph per character in the order typed.
SHAPED = {
    *("Arabic", "Urdu (Nastaliq)", "Syriac", "Thaana", "N'Ko", "Adlam", "Devanagari", "Bengali", "Gurmukhi"),
    *("Gujarati", "Oriya", "Tamil", "Telugu", "Kannada", "Malayalam", "Sinhala", "Thai", "Khmer"),
    *("Myanmar", "Tibetan", "Mongolian", "Javanese", "Balinese"),
}
