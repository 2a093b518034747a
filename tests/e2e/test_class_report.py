"""The instructor opens the bundled class's report in Chromium: it renders whole, without the
network, with its figures, every student and the flagged pair. Screenshot: class-report.png."""

from pathlib import Path

from playwright.sync_api import expect


def test_class_report_opens_in_chromium(bundled, browser, journal, artifacts):
    course, _, rows = bundled
    report = Path(course.root) / "class-report.html"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        fetched = []
        page.on("request", lambda request: fetched.append(request.url))
        with journal.step("class-report-opens", page):
            page.goto(report.as_uri())
            expect(page.locator("h1")).to_have_text("Class report: attention")
            figures = page.locator("img.plot")
            expect(figures).to_have_count(3)
            for i in range(3):
                figures.nth(i).scroll_into_view_if_needed()
                assert figures.nth(i).evaluate("img => img.complete && img.naturalWidth > 100"), i
            expect(page.locator("#students + table tr[data-student]")).to_have_count(len(rows))
            flagged = page.locator("[data-pair]")
            expect(flagged).to_have_count(1)
            expect(flagged).to_contain_text("kim_own_solution and lou_copied_late")
            expect(flagged.locator("mark").first).to_be_visible()
            expect(page.locator("#late + table tr[data-student='lou_copied_late']")).to_contain_text("15.6")
            page.locator("#similar").scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "class-report.png", full_page=True)
        assert [url for url in fetched if not url.startswith(("file:", "data:"))] == []
    finally:
        context.close()
