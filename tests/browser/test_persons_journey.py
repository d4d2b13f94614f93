"""One person, one record, in a real browser: an officer granted both of the master person index's rights
(through a group, as the administration gives them) imports a small health-records file — people
recorded at the provincial hospital, some recorded again at the district health centre, exactly or with
less to go on — asks for a linking run (the worker's step runs in the test's process, the live server
shares the database), opens the review queue, marks the most uncertain pair «Cùng một người» after looking
at the two records side by side, and sees the deduplicated count on the overview drop by one. Every page
goes through `check_page` (axe-core WCAG 2.1 AA, weight, no sideways scrolling) and leaves a screenshot in
artifacts/screenshots/chi-muc-ca-nhan/."""

from __future__ import annotations

import re

from django_tasks_db.models import DBTaskResult

from chinhquyenso.persons import tasks
from chinhquyenso.persons.models import CandidatePair, PairDecision
from tests.browser.support import check_page, sign_in
from tests.persons.h5_journey_data import health_csv
from tests.persons.pages_support import PASSWORD, reviewer

JOURNEY = "chi-muc-ca-nhan"
BASE = "/can-bo/chi-muc-ca-nhan/"


def main_text(page) -> str:
    return " ".join(page.get_by_role("main").inner_text().split())


def deduplicated(page) -> int:
    return int(page.locator("#so-nguoi-da-gop").inner_text().replace(".", ""))


def test_an_officer_imports_links_reviews_and_the_count_drops(desktop_page, officers, tmp_path):
    officer = reviewer(officers)  # xa_b.specialist, granted both rights through a group
    source = tmp_path / "ho-so-suc-khoe.csv"
    source.write_text(health_csv(), encoding="utf-8")
    page = desktop_page
    sign_in(page, officer.username, PASSWORD)

    # The overview before anything: no records; the import page from its menu.
    page.goto(BASE)
    assert deduplicated(page) == 0
    check_page(page, "tong-quan-truoc", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("navigation", name="Chỉ mục định danh cá nhân").get_by_role(
            "link", name="Nhập hồ sơ sức khỏe"
        ).click()
    check_page(page, "nhap", journey=JOURNEY)
    page.get_by_label(re.compile(r"^Tệp danh sách")).set_input_files(source)
    with page.expect_navigation():
        page.get_by_role("button", name="Tải lên và nhập").click()
    assert re.search(r"/nhap/\d+/$", page.url), page.url
    text = main_text(page)
    assert "Đã nhập 52" in text and "Bị loại 0" in text
    check_page(page, "lo-nhap", journey=JOURNEY)

    # Before linking, every record counts as its own person.
    page.goto(BASE)
    assert deduplicated(page) == 52
    with page.expect_navigation():
        page.get_by_role("button", name="Chạy so khớp").click()
    assert "Đã gửi yêu cầu chạy so khớp" in main_text(page)
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "chinhquyenso.persons.tasks.link_task"
    tasks.link_task.call(*queued.args_kwargs["args"])  # what `cqs worker` does

    page.goto(BASE)
    before = deduplicated(page)
    assert before < 52  # the exact duplicates are linked
    assert "Hoàn thành" in main_text(page)
    check_page(page, "tong-quan-sau-so-khop", journey=JOURNEY)

    # The review queue: the most uncertain pair first; the pair page side by side.
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^Hàng chờ đối soát \(")).click()
    assert CandidatePair.objects.exists()
    check_page(page, "hang-cho", journey=JOURNEY)
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile(r"^Xem cặp \d+$")).first.click()
    pair = CandidatePair.objects.get(pk=int(page.url.rstrip("/").split("/")[-1]))
    assert pair.left.full_name == pair.right.full_name  # one of the people recorded twice
    assert page.locator("tr.differs").count() >= 1 and "«khác»" in main_text(page)
    assert page.get_by_role("img", name="Đóng góp của từng trường vào trọng số khớp").count() == 1
    check_page(page, "cap-ban-ghi", journey=JOURNEY)
    page.get_by_label(re.compile(r"^Ghi chú")).fill("Cùng họ tên, ngày sinh; đã gọi điện xác nhận.")
    with page.expect_navigation():
        page.get_by_role("button", name="Cùng một người", exact=True).click()
    assert "Đã ghi nhận: hai bản ghi là cùng một người" in main_text(page)
    assert PairDecision.objects.get().decision == "match"

    # The overview counts one person fewer.
    page.goto(BASE)
    assert deduplicated(page) == before - 1
    check_page(page, "tong-quan-sau-doi-soat", journey=JOURNEY)
