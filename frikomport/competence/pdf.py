"""The course certificate (kursbevis) as a one-page A4 PDF, drawn with fpdf2.

It is written in the certificate's language (that of the course) from what the
certificate copied in when it was issued, so it reads the same however often it is
downloaded. Names may hold any letter (Sámi Ŋ, Polish Ł …): the text is set in DejaVu
Sans, shipped in ``static/fonts`` (fpdf2 embeds only the glyphs used). The QR code holds
the absolute address of the public verification page, drawn as vector squares.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import date

import segno
from babel.dates import format_date, format_interval
from babel.numbers import format_decimal
from flask_babel import force_locale, get_locale, ngettext
from flask_babel import gettext as _
from fpdf import FPDF

from frikomport import ROOT
from frikomport.competence.models import Certificate
from frikomport.i18n import DEFAULT_LOCALE, app_languages
from frikomport.timeutil import to_local
from frikomport.urls import external_url

# fpdf2 subsets the font with fontTools, which logs every step at INFO.
logging.getLogger("fontTools.subset").setLevel(logging.WARNING)

FONT_DIR = ROOT / "static" / "fonts"
FONT = "DejaVu"
ACCENT = (0, 98, 186)  # Designsystemet's blue
MUTED = (90, 90, 90)
INK = (20, 20, 20)
# Letters that do not decompose to a Latin one (å does: a + ring).
_TO_ASCII = str.maketrans({"æ": "ae", "ø": "o", "ß": "ss", "đ": "d", "ð": "d", "ł": "l",
                           "ŋ": "n", "ŧ": "t", "þ": "th"})
QR_SIZE = 38  # mm: scans from paper at arm's length
FOOTER_TOP = 222  # mm: where the issue date, code and QR code start (unless pushed down)


def verify_url(certificate: Certificate) -> str:
    return external_url("certificates.verify", code=certificate.code)


def filename(certificate: Certificate) -> str:
    """"kursbevis-forstehjelp-grunnkurs.pdf": plain ASCII, safe in a header and on disk."""
    title = certificate.course_title.lower().translate(_TO_ASCII)
    plain = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")[:60].rstrip("-")
    return f"kursbevis-{slug}.pdf" if slug else "kursbevis.pdf"


def days(first: date, last: date) -> str:
    """The course's day or days in the current language: "12. mars 2026",
    "12.–14. mars 2026"."""
    locale = str(get_locale())
    if first == last:
        return format_date(first, "long", locale=locale)
    return format_interval(first, last, "yMMMMd", locale=locale)


def hours(minutes: int) -> str:
    """Teaching time as hours: "1 time", "6 timer", "6,5 timer" (to the quarter)."""
    amount = round(minutes / 15) / 4
    number = format_decimal(amount, format="#,##0.##", locale=str(get_locale()))
    return ngettext("%(hours)s hour", "%(hours)s hours", 1 if amount == 1 else 2,
                    hours=number)


def render(certificate: Certificate) -> bytes:
    """The PDF of a certificate, in its own language (Bokmål if that is not one of ours)."""
    ours = certificate.language in app_languages()
    language = certificate.language if ours else DEFAULT_LOCALE
    with force_locale(language):
        return bytes(_Document(certificate, language).build().output())


class _Document:
    def __init__(self, certificate: Certificate, language: str):
        self.certificate = certificate
        self.pdf = FPDF(format="A4")
        self.pdf.add_font(FONT, "", FONT_DIR / "DejaVuSans.ttf")
        self.pdf.add_font(FONT, "B", FONT_DIR / "DejaVuSans-Bold.ttf")
        self.pdf.set_margins(25, 22, 25)
        self.pdf.set_auto_page_break(True, margin=20)
        self.pdf.set_lang(language)
        self.pdf.set_title(f"{_('Course certificate')} – {certificate.course_title}")
        self.pdf.set_subject(certificate.name)
        self.pdf.set_author(certificate.host_name)
        self.pdf.set_creator("FriKomPort")

    def build(self) -> FPDF:
        self.pdf.add_page()
        self._heading()
        self._facts()
        self._footer()
        return self.pdf

    def _text(self, size: float, text: str, bold: bool = False, colour=INK,
              after: float = 0) -> None:
        self.pdf.set_font(FONT, "B" if bold else "", size)
        self.pdf.set_text_color(*colour)
        self.pdf.multi_cell(0, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        self.pdf.ln(after)

    def _heading(self) -> None:
        pdf, certificate = self.pdf, self.certificate
        pdf.set_fill_color(*ACCENT)
        pdf.rect(0, 0, pdf.w, 8, style="F")
        self._text(10, certificate.host_name, colour=MUTED, after=14)
        self._text(32, _("Course certificate"), bold=True, colour=ACCENT, after=10)
        self._text(12, _("This certifies that"), colour=MUTED, after=3)
        self._text(22, certificate.name, bold=True, after=5)
        self._text(12, _("has attended the course"), colour=MUTED, after=3)
        self._text(18, certificate.course_title, bold=True, after=10)

    def _facts(self) -> None:
        certificate = self.certificate
        rows = [(_("Date"), days(certificate.first_day, certificate.last_day))]
        if certificate.teaching_minutes:
            rows.append((_("Length"), hours(certificate.teaching_minutes)))
        rows.append((_("Organiser"), certificate.host_name))
        if certificate.instructor:
            rows.append((_("Instructor"), certificate.instructor))
        if certificate.competences:
            rows.append((_("Competence gained"), certificate.competences))
        for label, value in rows:
            self._fact(label, value)

    def _fact(self, label: str, value: str) -> None:
        pdf, label_width = self.pdf, 48
        pdf.set_font(FONT, "", 10)
        pdf.set_text_color(*MUTED)
        top = pdf.get_y()
        pdf.multi_cell(label_width - 3, 6, label, new_x="RIGHT", new_y="TOP")
        label_bottom = pdf.get_y() if pdf.get_y() > top else top + 6
        pdf.set_xy(pdf.l_margin + label_width, top)
        pdf.set_font(FONT, "", 11)
        pdf.set_text_color(*INK)
        pdf.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")
        pdf.set_y(max(pdf.get_y(), label_bottom) + 2)

    def _footer(self) -> None:
        """Issue date, code and address on the left, the QR code on the right, at the
        foot of the page (on a new page if the facts ran long)."""
        pdf, certificate = self.pdf, self.certificate
        top = max(FOOTER_TOP, pdf.get_y() + 10)
        if top + 6 + QR_SIZE > pdf.h - pdf.b_margin:
            pdf.add_page()
            top = pdf.t_margin
        pdf.set_draw_color(*ACCENT)
        pdf.line(pdf.l_margin, top, pdf.w - pdf.r_margin, top)
        url = verify_url(certificate)
        _qr_code(pdf, url, pdf.w - pdf.r_margin - QR_SIZE, top + 6, QR_SIZE)
        text_width = pdf.w - pdf.l_margin - pdf.r_margin - QR_SIZE - 8
        pdf.set_xy(pdf.l_margin, top + 6)
        issued = format_date(to_local(certificate.issued_at).date(), "long",
                             locale=str(get_locale()))
        for size, text, bold in ((10, _("Issued %(date)s", date=issued), False),
                                 (10, _("Verification code"), False),
                                 (16, certificate.code, True),
                                 (9, _("Check that the certificate is genuine at:"), False),
                                 (9, url, False)):
            pdf.set_font(FONT, "B" if bold else "", size)
            pdf.set_text_color(*(INK if bold else MUTED))
            pdf.multi_cell(text_width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(1.5)


def _qr_code(pdf: FPDF, data: str, x: float, y: float, size: float) -> None:
    """A QR code as filled squares (a run of dark modules in a row is one rectangle)."""
    matrix = [bytes(row) for row in segno.make(data, error="m").matrix]
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row_number, row in enumerate(matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            end = column
            while end < len(row) and row[end]:
                end += 1
            pdf.rect(x + column * module, y + row_number * module, (end - column) * module,
                     module, style="F")
            column = end
