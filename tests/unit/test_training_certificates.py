"""Certificates: issued with an unguessable code when hours are credited, rendered in Thai and English (HTML
and a PDF of real text), and checked by anyone at a public endpoint that reveals only name, programme, date."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from flask.testing import FlaskClient
from pypdf import PdfReader

from services.training import handlers
from services.training.app import create_app
from services.training.certificates import Certificate, english_date, render_html, render_pdf, thai_date
from services.training.domain import CERTIFICATE_CODE, Completion
from shared.errors import NotFound
from shared.settings import Settings
from tests.unit.fakes_training import FakeRepository
from tests.unit.test_training_api import OFFICER, OTHER_AREA, TEACHER, enrol, running, token

SETTINGS = Settings()
CERT = Certificate(
    code="Zq3_ab-CDEFghijKLMNop",
    teacher_name_th="ครูสมชาย ใจดี",
    teacher_name_en="Somchai Jaidee",
    programme_title_th="การจัดการเรียนรู้เชิงรุก",
    programme_title_en="Active learning",
    hours=12.0,
    completed_on=date(2026, 11, 23),
)
VERIFY_URL = "https://anp.example.org/api/v1/certificates/verify/Zq3_ab-CDEFghijKLMNop"


def test_dates_are_written_in_the_buddhist_era_in_thai() -> None:
    assert thai_date(date(2026, 11, 23)) == "23 พฤศจิกายน 2569"
    assert thai_date(date(2027, 1, 1)) == "1 มกราคม 2570"
    assert english_date(date(2026, 11, 23)) == "23 November 2026"


def test_the_html_certificate_is_thai_and_english_and_escaped() -> None:
    page = render_html(CERT, VERIFY_URL)
    for text in ("ครูสมชาย ใจดี", "Somchai Jaidee", "การจัดการเรียนรู้เชิงรุก", "Active learning"):
        assert text in page
    assert "23 พฤศจิกายน 2569" in page and "23 November 2026" in page
    assert "12 ชั่วโมง" in page and "12 hours" in page
    assert CERT.code in page and f'href="{VERIFY_URL}"' in page
    hostile = render_html(Certificate(**{**vars(CERT), "teacher_name_th": "<script>x</script>"}), VERIFY_URL)
    assert "<script>x" not in hostile and "&lt;script&gt;" in hostile


def test_the_pdf_certificate_is_real_text_in_a_thai_font() -> None:
    pdf = render_pdf(CERT, VERIFY_URL)
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (
        "ครูสมชาย ใจดี",
        "Somchai Jaidee",
        "พฤศจิกายน 2569",
        "23 November 2026",
        CERT.code,
        VERIFY_URL,
    ):
        assert expected in text, expected
    fonts = [font.get_object()["/BaseFont"] for font in reader.pages[0]["/Resources"]["/Font"].values()]
    assert any("Garuda" in name or "Loma" in name or "Norasi" in name for name in fonts), fonts
    assert b"/FontFile2" in pdf  # the TrueType font is embedded


# --- issued with the completion -------------------------------------------------------------------------


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def client(repo: FakeRepository) -> Iterator[FlaskClient]:
    app = create_app(SETTINGS, repository_factory=lambda: repo)
    with app.test_client() as client:
        yield client


def completed(client: FlaskClient, teacher_id: str = "T13010001-01") -> dict[str, Any]:
    programme = running(client)
    session_id = programme["sessions"][0]["id"]
    assert enrol(client, programme["id"], teacher_id, mode="online").status_code == 201
    url = f"/api/v1/programmes/{programme['id']}"
    record = {"session_id": session_id, "teacher_id": teacher_id, "mode": "online", "minutes": 180}
    assert client.post(f"{url}/attendance", json=record, headers=OFFICER).status_code == 201
    done = client.post(f"{url}/completions", json={"teacher_id": teacher_id}, headers=OFFICER)
    assert done.status_code == 201, done.get_json()
    return done.get_json()


def test_a_credited_completion_carries_an_unguessable_code(client: FlaskClient, repo: FakeRepository) -> None:
    first = completed(client)
    second = completed(client, "T13010001-02")
    codes = {first["certificate_code"], second["certificate_code"]}
    assert len(codes) == 2
    assert all(re.fullmatch(CERTIFICATE_CODE, code) and len(code) >= 22 for code in codes)
    stored = repo.get(Completion, first["id"])
    assert stored is not None and stored.certificate_code == first["certificate_code"]
    assert "certificate_code" not in str([e["payload"] for e in repo.outbox])  # not spread by events


def test_the_certificate_pages_for_those_who_may_read_the_completion(client: FlaskClient) -> None:
    completion = completed(client)
    url = f"/api/v1/completions/{completion['id']}/certificate"
    page = client.get(f"{url}.html", headers=TEACHER)
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    text = page.get_data(as_text=True)
    assert "ครูสมชาย ใจดี" in text and "20 พฤศจิกายน 2569" in text  # the last session's day
    verify = f"http://localhost/api/v1/certificates/verify/{completion['certificate_code']}"
    assert verify in text
    pdf = client.get(f"{url}.pdf", headers=OFFICER)
    assert (pdf.status_code, pdf.mimetype) == (200, "application/pdf")
    assert verify in PdfReader(io.BytesIO(pdf.data)).pages[0].extract_text()

    colleague = token("teacher", "school", "13010001", sub="T13010001-02")
    assert client.get(f"{url}.html", headers=colleague).status_code == 404
    assert client.get(f"{url}.pdf", headers=OTHER_AREA).status_code == 404
    assert client.get(f"{url}.pdf").status_code == 401
    assert client.get("/api/v1/completions/cmp-nope/certificate.html", headers=OFFICER).status_code == 404


def test_anyone_may_verify_a_code_and_learns_only_name_programme_and_date(client: FlaskClient) -> None:
    completion = completed(client)
    response = client.get(f"/api/v1/certificates/verify/{completion['certificate_code']}")  # no token
    assert response.status_code == 200
    assert response.get_json() == {
        "name": "ครูสมชาย ใจดี",
        "name_en": "Somchai Jaidee",
        "programme_title_th": "การจัดการเรียนรู้เชิงรุก",
        "programme_title_en": "Active learning",
        "completed_on": "2026-11-20",
        "valid": True,
    }


@pytest.mark.parametrize("code", ["AAAAAAAAAAAAAAAAAAAAAA", "short", "x" * 65, "$where", "..%2F..%2Fetc"])
def test_an_unknown_code_is_404_and_says_nothing_more(client: FlaskClient, code: str) -> None:
    completed(client)
    response = client.get(f"/api/v1/certificates/verify/{code}")
    assert response.status_code == 404
    body = response.get_json()
    assert set(body) == {"code", "status", "message"}
    if "%2F" not in code:  # a path with slashes is no route at all: Flask's own 404
        assert body["message"] == "no such certificate"


def test_a_completion_from_before_certificates_has_none(repo: FakeRepository, client: FlaskClient) -> None:
    completion = completed(client)
    stored = repo.get(Completion, completion["id"])
    assert stored is not None
    repo.entities[("completions", stored.id)]["certificate_code"] = ""
    assert client.get(f"/api/v1/completions/{stored.id}/certificate.html", headers=OFFICER).status_code == 404
    with pytest.raises(NotFound):
        handlers.verify_certificate("", repo)
