"""Completion certificates in Thai and English: an HTML page and a PDF, each with its verification code.

The PDF is real text in an embedded Thai TrueType font (Debian's `fonts-thai-tlwg`, which `.ci/run`
installs; `ANP_CERTIFICATE_FONT` may name another TTF), shaped with HarfBuzz so Thai marks sit right.
"""

from __future__ import annotations

import glob
import html
import os
from dataclasses import dataclass
from datetime import date
from functools import cache

from fpdf import FPDF

from shared.calendar import BE_OFFSET
from shared.errors import Unavailable

THAI_MONTHS = (
    "มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน",
    "กรกฎาคม", "สิงหาคม", "กันยายน", "ตุลาคม", "พฤศจิกายน", "ธันวาคม",
)  # fmt: skip
ENGLISH_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
FONT_ENV = "ANP_CERTIFICATE_FONT"
# first found wins: Garuda and Loma (sans), Norasi (serif), from fonts-thai-tlwg
FONT_GLOBS = (
    "/usr/share/fonts/truetype/tlwg/Garuda.ttf",
    "/usr/share/fonts/truetype/tlwg/Loma.ttf",
    "/usr/share/fonts/truetype/tlwg/Norasi.ttf",
    "/usr/share/fonts/truetype/tlwg/*.ttf",
    "/usr/share/fonts/**/*Thai*.ttf",
)


@dataclass(frozen=True)
class Certificate:
    code: str
    teacher_name_th: str
    teacher_name_en: str
    programme_title_th: str
    programme_title_en: str
    hours: float
    completed_on: date


def thai_date(day: date) -> str:
    """E.g. "23 พฤศจิกายน 2569": the Buddhist-Era year."""
    return f"{day.day} {THAI_MONTHS[day.month - 1]} {day.year + BE_OFFSET}"


def english_date(day: date) -> str:
    return f"{day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"


def hours_text(hours: float) -> str:
    return f"{hours:g}"


def lines(cert: Certificate, verify_url: str) -> list[tuple[str, str]]:
    """The certificate's text, line by line, as (style, text): style is "title", "name" or "body"."""
    name_en = cert.teacher_name_en or cert.teacher_name_th
    title_en = cert.programme_title_en or cert.programme_title_th
    hours = hours_text(cert.hours)
    return [
        ("title", "เกียรติบัตร"),
        ("body", "ขอมอบเกียรติบัตรฉบับนี้ให้ไว้เพื่อแสดงว่า"),
        ("name", cert.teacher_name_th),
        ("body", f"ได้ผ่านการพัฒนาตามหลักสูตร “{cert.programme_title_th}”"),
        ("body", f"จำนวน {hours} ชั่วโมง  ให้ไว้ ณ วันที่ {thai_date(cert.completed_on)}"),
        ("title", "Certificate of Completion"),
        ("body", "This is to certify that"),
        ("name", name_en),
        ("body", f"has completed the programme “{title_en}”"),
        ("body", f"{hours} hours, on {english_date(cert.completed_on)}"),
        ("code", f"รหัสตรวจสอบ / Verification code: {cert.code}"),
        ("code", f"ตรวจสอบได้ที่ / Verify at: {verify_url}"),
    ]


def render_html(cert: Certificate, verify_url: str) -> str:
    tags = {"title": "h1", "name": "h2", "body": "p", "code": "p"}
    body = "\n".join(
        f'<{tags[style]} class="{style}">{html.escape(text)}</{tags[style]}>'
        for style, text in lines(cert, verify_url)
    )
    link = html.escape(verify_url, quote=True)
    return f"""<!doctype html>
<html lang="th">
<head>
<meta charset="utf-8">
<title>เกียรติบัตร / Certificate — {html.escape(cert.teacher_name_th)}</title>
<style>
body {{ font-family: "Sarabun", "Garuda", "Loma", sans-serif; text-align: center; margin: 3em; }}
h1 {{ margin-top: 1.5em; }} .code {{ font-family: monospace; font-size: 0.9em; }}
</style>
</head>
<body>
<main>
{body}
<p class="code"><a href="{link}">{link}</a></p>
</main>
</body>
</html>
"""


@cache
def font_path() -> str:
    configured = os.environ.get(FONT_ENV)
    if configured:
        if not os.path.isfile(configured):
            raise Unavailable(f"{FONT_ENV} names no file: {configured}")
        return configured
    for pattern in FONT_GLOBS:
        found = sorted(glob.glob(pattern, recursive=True))
        if found:
            return found[0]
    raise Unavailable("no Thai font for certificates: install fonts-thai-tlwg or set " + FONT_ENV)


SIZES = {"title": 24, "name": 20, "body": 14, "code": 10}


def render_pdf(cert: Certificate, verify_url: str) -> bytes:
    pdf = FPDF(orientation="landscape", format="A4")
    pdf.set_title(f"Certificate {cert.code}")
    pdf.set_creator("Academic Network Platform")
    pdf.set_auto_page_break(auto=False)
    pdf.add_page()
    pdf.add_font("thai", "", font_path())
    pdf.set_text_shaping(use_shaping_engine=True)
    pdf.set_draw_color(120, 90, 30)
    pdf.set_line_width(1.2)
    pdf.rect(10, 10, pdf.w - 20, pdf.h - 20)
    pdf.set_y(40)
    for style, text in lines(cert, verify_url):
        if style == "title" and pdf.get_y() > 40:
            pdf.ln(6)
        pdf.set_font("thai", size=SIZES[style])
        pdf.multi_cell(0, SIZES[style] * 0.55, text, align="C", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    return bytes(pdf.output())
