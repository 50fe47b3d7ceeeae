"""One name per script the issue names: shared by the tests, the gallery and the benchmark."""

NAMES_BY_SCRIPT = {
    "Latin": "Zoë Ångström-Łukasiewicz",
    "Cyrillic": "Иван Петрович Смирнов",
    "Greek": "Έλενα Παπαδοπούλου",
    "Chinese": "李小龙",
    "Japanese": "山田 はなこ",
    "Korean": "김민준",
    "Arabic": "محمد عبد الله",
    "Hebrew": "יעל כהן",
    "Devanagari": "अर्जुन क्षत्रिय",
    "Bengali": "রবীন্দ্রনাথ ঠাকুর",
    "Tamil": "தமிழ்செல்வி",
    "Thai": "สมศักดิ์ น้ำใจดี",
    "Khmer": "សុខ វណ្ណា",
}
#: Scripts whose letters change shape, join, reorder or stack: HarfBuzz decides the glyphs.
SHAPED = {"Arabic", "Hebrew", "Devanagari", "Bengali", "Tamil", "Thai", "Khmer"}
