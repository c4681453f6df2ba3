"""In a real browser with the system in dark mode: pages turn dark and every piece of text stays readable
(WCAG contrast: 4.5 for text, 3 for large text); the favicon is linked and /favicon.ico is no 404."""

import pytest

from tests.browser.test_phone_layout import LONG_USER, desk, log_in  # noqa: F401 (desk is a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The WCAG contrast of each visible text against the first opaque background behind it.
LOW_CONTRAST = """() => {
    const rgb = (text) => (text.match(/[\\d.]+/g) || []).map(Number);
    const lum = ([r, g, b]) => {
        const c = [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
        return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
    };
    const background = (el) => {
        for (; el; el = el.parentElement) {
            const style = getComputedStyle(el);
            if (style.backgroundImage !== 'none' && el !== document.body) return null;  // a gradient: not judged
            const c = rgb(style.backgroundColor);
            if (c.length === 3 || c[3] === 1) return c.slice(0, 3);
        }
        return [255, 255, 255];
    };
    const low = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const el = node.parentElement;
        if (!node.textContent.trim() || !el.getClientRects().length || el.closest('[hidden], .sr-only, option')) continue;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || el.closest('details:not([open]) > :not(summary)')) continue;
        const bg = background(el);
        if (!bg) continue;
        const a = lum(rgb(style.color).slice(0, 3)), b = lum(bg);
        const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
        const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
        const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
        if (ratio < needed) low.push(`${el.tagName.toLowerCase()}.${el.className} "${node.textContent.trim().slice(0, 30)}" ${ratio.toFixed(2)}`);
    }
    return low;
}"""


def test_dark_mode_follows_the_system_and_stays_readable(new_page, desk):  # noqa: F811
    team, api_key, _owner = desk
    page = new_page()
    page.emulate_media(color_scheme="dark")
    log_in(page, LONG_USER)
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert sum(int(v) for v in background[4:-1].split(",")[:3]) < 3 * 60, background
    base = f"/t/{team.slug}/"
    failures = {}
    for url in [
        base,
        base + "activations/",
        base + "activations/buy/",
        base + "activations/history/",
        base + "rentals/",
        base + "prices/",
        base + "keys/",
        base + f"keys/{api_key.public_id}/",
        base + "members/",
        base + "audit/",
        base + "settings/",
    ]:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        low = page.evaluate(LOW_CONTRAST)
        if low:
            failures[url] = low[:6]
    page.goto(base + "members/")
    page.locator(".usermenu summary").click()
    if low := page.evaluate(LOW_CONTRAST):
        failures["user menu"] = low[:6]
    assert failures == {}, "\n".join(f"{url}: {low}" for url, low in failures.items())

    # The same pages in light mode are light.
    page.emulate_media(color_scheme="light")
    background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
    assert sum(int(v) for v in background[4:-1].split(",")[:3]) > 3 * 200, background


def test_the_favicon_is_linked_and_favicon_ico_answers(new_page, live_server):
    page = new_page()
    page.goto("/accounts/login/")
    href = page.locator("link[rel=icon]").get_attribute("href")
    icon = page.request.get(live_server.url + href)
    assert icon.status == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    ico = page.request.get(live_server.url + "/favicon.ico")
    assert ico.status == 200 and ico.url.endswith(href)
