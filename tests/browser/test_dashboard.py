"""The office dashboard as its users meet it: sign-in, drill-down, live values and alerts, Thai and English, a phone
screen, accessibility and the public transparency page. Screenshots of each main page go to test-artifacts/browser/."""

from __future__ import annotations

import re
from typing import Any

import pytest
import requests
from playwright.sync_api import Page, expect

from shared.calendar import today
from tests.browser.conftest import PHONE, axe_violations, bearer, dashboard, shot, sign_in
from tests.stack import Stack

pytestmark = pytest.mark.browser

AREA, CLUSTER = "13P1", "13P1-C01"
SCHOOL = "13010002"  # Wat Bot School: other suites leave it alone
LIVE_SCHOOL = "13010004"  # visited by the live test only
DATED_SCHOOL = "13010005"  # visited by the language test only


def area_officer(stack: Stack) -> str:
    return bearer(stack.token(f"esa-{AREA}", "esa_officer", "esa", AREA))


def unit_name(stack: Stack, level: str, code: str, lang: str = "th") -> str:
    return stack.db("monitoring")["units"].find_one({"_id": f"{level}:{code}"})[f"name_{lang}"]


def api_get(stack: Stack, path: str, token: str) -> dict[str, Any]:
    response = requests.get(
        stack.url("monitoring", path), headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert response.status_code == 200, response.text
    return response.json()


def complete_visit(stack: Stack, school: str) -> None:
    """A supervisor of the area schedules and completes an onsite visit today, through the supervision API."""
    headers = stack.token(f"sup-{AREA}", "supervisor", "esa", AREA)
    day = today().isoformat()
    scheduled = requests.post(
        stack.url("supervision", "/api/v1/visits"),
        headers=headers,
        json={"school_code": school, "scheduled_date": day, "mode": "onsite"},
        timeout=5,
    )
    assert scheduled.status_code == 201, scheduled.text
    completed = requests.post(
        stack.url("supervision", f"/api/v1/visits/{scheduled.json()['id']}/complete"),
        headers=headers,
        json={
            "visit_date": day,
            "mode": "onsite",
            "rubric_scores": {"learning_design": 3, "assessment": 4},
            "teachers_observed": [f"T{school}-01"],
        },
        timeout=5,
    )
    assert completed.status_code == 201, completed.text


def tile(page: Page, indicator: str) -> Any:
    return page.locator(f'[data-testid="tile"][data-indicator="{indicator}"]')


def test_sign_in_lands_on_own_area_and_drills_down_to_a_school(page: Page, stack: Stack) -> None:
    token = area_officer(stack)
    page.goto(dashboard(stack))
    shot(page, "signin")
    sign_in(page, stack, token)

    expect(page).to_have_url(dashboard(stack, f"esa/{AREA}"))
    expect(page.get_by_test_id("unit-title")).to_have_text(unit_name(stack, "esa", AREA))
    catalogue = api_get(stack, "/api/v1/indicators", token)["indicators"]
    expect(page.get_by_test_id("tile")).to_have_count(len(catalogue))
    shot(page, "esa")

    page.locator(f'table[data-testid="children"] tr[data-code="{CLUSTER}"] a').first.click()
    expect(page).to_have_url(re.compile(rf"/dashboard/cluster/{CLUSTER}"))
    expect(page.get_by_test_id("unit-title")).to_have_text(unit_name(stack, "cluster", CLUSTER))
    crumbs = page.get_by_test_id("breadcrumbs")
    expect(crumbs.get_by_role("link", name=unit_name(stack, "esa", AREA))).to_be_visible()
    shot(page, "cluster")

    page.locator(f'table[data-testid="children"] tr[data-code="{SCHOOL}"] a').first.click()
    expect(page).to_have_url(re.compile(rf"/dashboard/school/{SCHOOL}"))
    expect(page.get_by_test_id("unit-title")).to_have_text(unit_name(stack, "school", SCHOOL))
    expect(page.get_by_test_id("activity")).to_be_visible()
    expect(page.get_by_test_id("alerts")).to_be_visible()
    for canvas in ("chart-achievement", "chart-activity", "chart-mix"):
        expect(page.get_by_test_id(canvas)).to_have_attribute("aria-label", re.compile(r"\S"))
    # every tile shows the status the indicator API gives the school
    table = api_get(stack, f"/api/v1/indicators/school/{SCHOOL}", token)
    for indicator in table["unit"]["indicators"]:
        expect(tile(page, indicator["code"])).to_have_attribute("data-status", indicator["status"])
    shot(page, "school")

    # back up through the breadcrumbs
    crumbs.get_by_role("link", name=unit_name(stack, "esa", AREA)).click()
    expect(page).to_have_url(re.compile(rf"/dashboard/esa/{AREA}"))


def test_the_children_table_sorts_and_filters_and_every_file_comes_from_the_service(
    page: Page, stack: Stack
) -> None:
    origins: set[str] = set()
    page.on("request", lambda r: origins.add(r.url.split("/")[2]) if r.url.startswith("http") else None)
    sign_in(page, stack, area_officer(stack), f"cluster/{CLUSTER}")
    rows = page.locator('table[data-testid="children"] tbody tr')
    expect(rows.first).to_be_visible()
    codes = rows.evaluate_all("rows => rows.map(r => r.dataset.code)")
    assert len(codes) > 2

    name_header = page.locator('table[data-testid="children"] th:has(button[data-sort="name"])')
    names = "rows => rows.map(r => r.querySelector('a').textContent)"
    name_header.locator("button").click()
    expect(name_header).to_have_attribute("aria-sort", "ascending")
    ascending = rows.evaluate_all(names)
    in_thai_order = "ns => ns.every((n, i) => i === 0 || ns[i - 1].localeCompare(n, 'th') <= 0)"
    assert page.evaluate(in_thai_order, ascending), ascending
    name_header.locator("button").click()
    expect(name_header).to_have_attribute("aria-sort", "descending")
    assert rows.evaluate_all(names) == ascending[::-1]

    page.fill("#children-filter", SCHOOL)
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-code", SCHOOL)
    page.fill("#children-filter", "")
    expect(rows).to_have_count(len(codes))
    # scripts, styles, fonts and map data: all from the service itself, no CDN
    assert origins == {stack.url("monitoring", "").split("/")[2]}, origins


@pytest.mark.expected_http_errors("/api/v1/views/school/50010001")
def test_a_shared_link_opens_after_sign_in_and_other_areas_stay_closed(page: Page, stack: Stack) -> None:
    sign_in(page, stack, area_officer(stack), f"school/{SCHOOL}")
    expect(page).to_have_url(dashboard(stack, f"school/{SCHOOL}"))
    expect(page.get_by_test_id("unit-title")).to_have_text(unit_name(stack, "school", SCHOOL))

    page.goto(dashboard(stack, "school/50010001"))  # Chiang Mai: outside the officer's area
    expect(page.get_by_role("alert")).to_contain_text("50010001")
    expect(page.get_by_test_id("tile")).to_have_count(0)


def test_a_visit_written_through_the_api_changes_the_tile_and_clears_the_alert_without_a_reload(
    page: Page, stack: Stack
) -> None:
    sign_in(page, stack, area_officer(stack), f"school/{LIVE_SCHOOL}")
    coverage = tile(page, "supervision_coverage")
    expect(coverage).to_have_attribute("data-status", "off_track")
    never_visited = page.locator(f'[data-alert-id="school_not_visited:school:{LIVE_SCHOOL}"]')
    expect(never_visited).to_have_count(1)  # raised by the monitoring relay for a school never visited
    expect(page.get_by_test_id("liveness")).to_have_attribute("data-state", "live")
    page.evaluate("window.__sameDocument = true")

    complete_visit(stack, LIVE_SCHOOL)

    expect(coverage).to_have_attribute("data-status", "on_track")
    expect(coverage.locator(".tile-value")).to_contain_text("100")
    expect(never_visited).to_have_count(0)
    assert page.evaluate("window.__sameDocument === true"), "the page reloaded instead of updating"
    expect(page.get_by_test_id("liveness")).to_contain_text(re.compile(r"\d"))
    shot(page, "school-after-visit")


def test_the_language_switch_covers_labels_numbers_and_buddhist_era_dates(page: Page, stack: Stack) -> None:
    complete_visit(stack, DATED_SCHOOL)
    sign_in(page, stack, area_officer(stack), f"school/{DATED_SCHOOL}")
    activity = page.get_by_test_id("activity")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    year = today().year
    expect(activity).to_contain_text(str(year + 543))  # the visit's date in the Buddhist Era
    expect(page.locator("#period")).to_contain_text("ภาคเรียน")

    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_test_id("unit-title")).to_have_text(unit_name(stack, "school", DATED_SCHOOL, "en"))
    expect(page.locator("#period")).to_contain_text("Semester")
    expect(activity).to_contain_text(str(year))
    expect(activity).not_to_contain_text(str(year + 543))
    expect(page.get_by_test_id("liveness")).to_contain_text(re.compile(r"[Uu]pdated"))
    shot(page, "school-english")

    page.reload()  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.click("#lang-toggle")
    expect(page.locator("html")).to_have_attribute("lang", "th")
    expect(page.get_by_test_id("liveness")).to_contain_text("อัปเดต")


@pytest.mark.parametrize("page", [PHONE], indirect=True, ids=["phone"])
def test_a_phone_screen_shows_every_page_without_sideways_scrolling(page: Page, stack: Stack) -> None:
    sign_in(page, stack, area_officer(stack))
    for path, name in (
        (f"esa/{AREA}", "phone-esa"),
        (f"school/{SCHOOL}", "phone-school"),
        ("public", "phone-public"),
    ):
        page.goto(dashboard(stack, path))
        expect(page.locator('[data-testid="tile"], [data-testid="public"]').first).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path}: the page is {overflow}px wider than a phone screen"
        expect(page.locator("#lang-toggle")).to_be_in_viewport()
        shot(page, name)
    page.goto(dashboard(stack, f"school/{SCHOOL}"))
    tiles = page.get_by_test_id("tile")
    first, second = tiles.nth(0).bounding_box(), tiles.nth(1).bounding_box()
    assert first and second and second["y"] >= first["y"] + first["height"], "tiles should stack on a phone"


def test_pages_have_no_serious_accessibility_violations_and_work_from_the_keyboard(
    page: Page, stack: Stack
) -> None:
    page.goto(dashboard(stack, "signin"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.getAttribute('href')") == "#main", "first Tab: skip link"
    pages = {"signin": None}
    sign_in(page, stack, area_officer(stack))
    expect(page.get_by_test_id("tile").first).to_be_visible()
    pages.update({f"esa/{AREA}": "tile", f"school/{SCHOOL}": "tile", "public": "tile"})
    serious = []
    for path, ready in pages.items():
        page.goto(dashboard(stack, path))
        if ready:
            expect(page.get_by_test_id(ready).first).to_be_visible()
        violations = axe_violations(page)
        print(f"{path}: {[(v['id'], v['impact'], len(v['nodes'])) for v in violations]}")
        serious += [(path, v["id"], v["help"]) for v in violations if v["impact"] in ("serious", "critical")]
    assert not serious, serious


def test_the_public_page_needs_no_sign_in_and_shows_only_aggregates(page: Page, stack: Stack) -> None:
    api_calls: list[str] = []
    page.on("request", lambda r: api_calls.append(r.url) if "/api/" in r.url else None)
    page.goto(dashboard(stack, "public"))
    public = page.get_by_test_id("public")
    expect(public).to_be_visible()
    expect(page.locator('[data-testid="map"] [data-province]')).to_have_count(77)
    expect(page.locator('table[data-testid="children"] tr[data-code="13"]')).to_be_visible()
    coverage = public.locator('[data-testid="tile"][data-indicator="supervision_coverage"]')
    expect(coverage.locator("svg.sparkline .sparkline-last")).to_have_count(1)  # a trend, read as an outsider
    shot(page, "public")

    page.locator('table[data-testid="children"] tr[data-code="13"] a').first.click()
    expect(page).to_have_url(re.compile(r"/dashboard/public/province/13"))
    expect(page.locator(f'table[data-testid="children"] tr[data-code="{AREA}"]')).to_be_visible()
    expect(page.locator('a[href*="/school/"]')).to_have_count(0)
    assert api_calls and all("/api/v1/public/" in url for url in api_calls), api_calls
    assert page.evaluate("sessionStorage.getItem('anp.token')") is None


def test_the_national_map_colours_provinces_and_drills_into_one(page: Page, stack: Stack) -> None:
    sign_in(page, stack, bearer(stack.token("obec", "national_officer", "national", None)))
    expect(page).to_have_url(dashboard(stack, "national/TH"))
    provinces = page.locator('[data-testid="map"] [data-province]')
    expect(provinces).to_have_count(77)
    with_data, without = page.locator('[data-province="13"]'), page.locator('[data-province="10"]')
    fill = "el => getComputedStyle(el.querySelector('rect') || el).fill"
    assert with_data.evaluate(fill) != without.evaluate(fill), (
        "a province with data is coloured like one without"
    )
    chooser = page.locator("#map-indicator")
    chooser.select_option(index=1)
    shot(page, "national")
    with_data.click()
    expect(page).to_have_url(re.compile(r"/dashboard/province/13"))
    expect(page.get_by_test_id("unit-title")).to_have_text(unit_name(stack, "province", "13"))
    shot(page, "province")


@pytest.mark.expected_http_errors("/api/v1/pulse/")
def test_the_page_says_when_the_projector_lags_and_when_the_service_cannot_be_reached(
    page: Page, stack: Stack
) -> None:
    """The pulse's answers are replaced in the browser: the stack itself stays up for the other tests."""
    sign_in(page, stack, area_officer(stack), f"school/{SCHOOL}")
    liveness = page.get_by_test_id("liveness")
    expect(liveness).to_have_attribute("data-state", "live")

    def lagging(route: Any) -> None:
        pulse = route.fetch().json()
        route.fulfill(json={**pulse, "projector": {"status": "lagging", "lag": 4321}})

    page.route("**/api/v1/pulse/**", lagging)
    expect(liveness).to_have_attribute("data-state", "lagging")
    expect(liveness).to_contain_text("4,321")
    page.unroute("**/api/v1/pulse/**")
    page.route("**/api/v1/pulse/**", lambda route: route.abort("connectionrefused"))
    expect(liveness).to_have_attribute("data-state", "unreachable")
    shot(page, "school-unreachable")
    page.unroute("**/api/v1/pulse/**")
    expect(liveness).to_have_attribute("data-state", "live")  # back by itself when the service answers again
