"""One page: the family's frame and emblem, a header pinned to the top, a footer of signature, date
and verification pinned to the bottom, and the body (name, course, details) spread between them so
the page has no empty band whatever the name's length or the paper."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from reportlab.lib.colors import HexColor
from reportlab.pdfgen.canvas import Canvas

from .. import fonts, text
from . import marks, ornaments
from .content import SAMPLE_QR, CertificateContent, Design
from .templates import Template, Wording, details, filled, values_of
from .typeset import Block, block, cuts_of, fitted, label

LOGO_TOP = (170, 46)  # the largest a logo centred above the organisation is drawn, in points
LOGO_CORNER = (140, 60)  # ... and in the top left corner, beside an emblem
SIGNATURE = (170, 44)
EMBLEM_RADIUS = 36
QR_SIZE = 74
NAME_LARGEST, NAME_ONE_LINE_LEAST, NAME_WRAPPED, NAME_LEAST = 46, 24, 28, 16


@dataclass(frozen=True, slots=True)
class _Spaced:
    block: Block
    gap_before: float  # the least space above it
    weight: float  # its share of the space left over
    colour: str  # "ink", "muted" or "accent"
    text: str  # what it prints, as given: reported if it had to be cut or left out
    rule_after: bool = False


@dataclass(frozen=True, slots=True)
class _Faces:
    heading: text.FontSet
    name: text.FontSet
    body: text.FontSet


def _faces(template: Template, locale: str) -> _Faces:
    by_role = {"serif": fonts.serif(locale), "sans": fonts.sans(locale)}
    return _Faces(by_role[template.heading_font], by_role[template.name_font], by_role[template.body_font])


def draw_page(
    canvas: Canvas, content: CertificateContent, design: Design, template: Template, *, issued: str, completed: str
) -> list[str]:
    """Draw the page; return the texts that were cut short to fit (the checks before publishing)."""
    width, height = design.page()
    palette = ornaments.Palette.of(design.accent, design.secondary, design.ink, design.muted)
    faces = _faces(template, design.locale)
    words = template.wording_for(design.locale)
    values, custom = values_of(content, issued=issued, completed=completed)
    if design.background and not marks.is_pdf(design.background):
        marks.draw_background(canvas, design.background, width=width, height=height)
    box = ornaments.FRAMES[template.frame](canvas, width, height, palette)
    heading = filled(words.heading, values, custom)
    header_bottom, emblem_bottom = _header(canvas, content, design, template, heading, box, palette, faces)
    footer_top = _footer(canvas, content, design, words, box, palette, faces.body, issued)
    top = min(header_bottom, emblem_bottom)
    phrase = filled(content.phrase or words.phrase, values, custom)
    intro = filled(words.intro, values, custom)
    lines = details(content, template, words, values, custom)
    _body(canvas, content, template, (intro, phrase, lines), box, palette, faces, top=top, bottom=footer_top)
    return cuts_of(canvas)


def _header(canvas, content, design, template, heading_text, box, palette, faces) -> tuple[float, float]:
    """Logo, organisation and heading; returns the bottom of the header and of the emblem."""
    top = box.top
    corner = 0.0  # width kept clear at each side for the logo and the emblem
    emblem_bottom = box.top
    if template.emblem:
        corner = LOGO_CORNER[0] + 8
        x, y = box.right - EMBLEM_RADIUS - 16, box.top - EMBLEM_RADIUS - 2
        emblem = ornaments.EMBLEMS[template.emblem]
        score = content.score if template.prints_score else None
        emblem_bottom = emblem(canvas, x=x, y=y, r=EMBLEM_RADIUS, palette=palette, score=score, sans=faces.body)
        if design.logo:
            w, h = LOGO_CORNER
            marks.draw_image(canvas, design.logo, x=box.left, top=box.top, max_w=w, max_h=h, centred=False)
            top -= 6
    elif design.logo:
        w, h = LOGO_TOP
        top -= 10 + marks.draw_image(canvas, design.logo, x=box.centre, top=top, max_w=w, max_h=h)[1]
    inner = box.width - 2 * corner
    canvas.setFillColor(palette.muted)
    organisation = block(content.organisation_name, faces.body, width=inner, size=13)
    organisation = _noted(canvas, organisation, content.organisation_name)
    top = organisation.draw(canvas, centre=box.centre, top=top)
    canvas.setFillColor(palette.accent)
    heading = block(heading_text, faces.heading, width=inner, size=template.heading_size, min_size=16)
    top = _noted(canvas, heading, heading_text).draw(canvas, centre=box.centre, top=top - 6)
    return top, emblem_bottom


def _noted(canvas: Canvas, fitted_block: Block, value: str) -> Block:
    if fitted_block.cut:
        cuts_of(canvas).append(value)
    return fitted_block


def _name(value: str, face: text.FontSet, width: float) -> Block:
    """One line as large as fits; a long name goes onto two lines rather than print small on one."""
    sized = partial(fitted, value, face, width=width, max_size=NAME_LARGEST, wrapped_max=NAME_WRAPPED)
    size, lines, cut = sized(min_size=NAME_ONE_LINE_LEAST)
    if not cut:
        return Block(tuple(lines), size)
    size, lines, cut = sized(min_size=NAME_LEAST)  # too long for two lines at that size either: smaller
    return Block(tuple(lines), size, cut)


def _body(canvas, content, template, words, box, palette, faces, *, top: float, bottom: float) -> None:
    intro, phrase, lines = words
    inner = box.width - 40
    body = faces.body
    course = block(content.course_title, body, width=inner, size=22, min_size=12, max_lines=2, wrapped_max=18)
    items = [
        _Spaced(block(intro, body, width=inner, size=13), 0, 3, "muted", intro),
        _Spaced(_name(content.holder_name, faces.name, box.width - 16), 6, 2, "ink", content.holder_name, True),
        _Spaced(block(phrase, body, width=inner, size=13), 12, 1.5, "muted", phrase),
        _Spaced(course, 4, 0.6, "ink", content.course_title),
    ]
    fixed = len(items)  # the details after them are left out from the last when the page is full
    room = 3 if len(course.lines) == 1 else 2  # lines left above the footer
    for dropped in lines[room:]:
        cuts_of(canvas).append(dropped.text)
    for index, line in enumerate(lines[:room]):
        items.append(
            _Spaced(
                block(line.text, body, width=inner, size=14 if line.prominent else 11),
                8 if index == 0 else 3,
                1.2 if index == 0 else 0.3,
                "accent" if line.prominent else "muted",
                line.text,
            )
        )
    for item in items:
        _noted(canvas, item.block, item.text)
    rule_space = 12  # under the name's descenders, then the rule
    used = sum(item.block.height + item.gap_before for item in items) + rule_space
    while used > top - bottom and len(items) > fixed:  # never past the footer: the last detail goes first
        dropped = items.pop()
        cuts_of(canvas).append(dropped.text)
        used -= dropped.block.height + dropped.gap_before
    edge_weight = 3
    spare = max(0.0, top - bottom - used)
    unit = spare / (sum(item.weight for item in items) + edge_weight)
    y = top
    colours = {"ink": palette.ink, "muted": palette.muted, "accent": palette.accent}
    for item in items:
        y -= item.gap_before + item.weight * unit
        canvas.setFillColor(colours[item.colour])
        y = item.block.draw(canvas, centre=box.centre, top=y)
        if item.rule_after:
            y -= rule_space
            half = min(box.width * 0.36, max(150, item.block.width() / 2 + 30))
            ornaments.draw_rule(canvas, template.rule, centre=box.centre, y=y + 4, half=half, palette=palette)


def _footer(canvas, content, design, words: Wording, box, palette, sans, issued: str) -> float:
    """Signature (left), date (centre), ID and QR code (right), the verify line under them; returns the top."""
    base = box.bottom + 38  # the baseline of the instructor's name and the date
    top = base + 20
    column = 210
    signature_centre = box.left + 20 + column / 2
    if content.instructor_name:
        if design.signature:  # the ink just above its line, as signed
            w, h = SIGNATURE
            drawn = marks.draw_image(canvas, design.signature, x=signature_centre, bottom=base + 18, max_w=w, max_h=h)
            top = max(top, base + 18 + drawn[1])
        canvas.setStrokeColor(palette.muted)
        canvas.setLineWidth(0.7)
        canvas.line(signature_centre - column / 2, base + 16, signature_centre + column / 2, base + 16)
        canvas.setFillColor(palette.ink)
        small = partial(label, canvas, font_set=sans, centre=signature_centre, width=column)
        small(content.instructor_name, y=base, size=12)
        if content.instructor_title:
            canvas.setFillColor(palette.muted)
            small(content.instructor_title, y=base - 13.5, size=9)
    canvas.setFillColor(palette.ink)
    label(canvas, issued, font_set=sans, centre=box.centre, y=base, size=12, width=170)
    canvas.setStrokeColor(palette.muted)
    canvas.line(box.centre - 80, base + 16, box.centre + 80, base + 16)
    canvas.setFillColor(palette.muted)
    label(canvas, words.date_label, font_set=sans, centre=box.centre, y=base - 13.5, size=9, width=170)

    qr_x, qr_y = box.right - 8 - QR_SIZE, base - 16
    canvas.setFillColor(HexColor("#000000"))
    marks.draw_qr(canvas, SAMPLE_QR if content.sample else content.verify_url, x=qr_x, y=qr_y, size=QR_SIZE)
    top = max(top, qr_y + QR_SIZE)
    code_centre = qr_x - 76
    canvas.setFillColor(palette.muted)
    label(canvas, words.id_label, font_set=sans, centre=code_centre, y=base + 14, size=9, width=132)
    canvas.setFillColor(palette.ink)
    label(canvas, content.code, font_set=sans, centre=code_centre, y=base, size=11, width=132)
    canvas.setFillColor(palette.muted)
    verify = (
        "Sample only: this is not a certificate and cannot be verified."
        if content.sample
        else f"Verify this certificate: {content.verify_url}"
    )
    label(canvas, verify, font_set=sans, centre=box.centre, y=box.bottom - 2, size=8, width=box.width - 40)
    return top + 10  # a little air above the tallest footer element
