#!/usr/bin/env python3
"""The admin console in headless Chromium (Debian's), driven by Selenium, over HTTP against the
local stack. Seeds its own program through the API, then, asserting what the page shows at
each step: pastes the key (by keyboard), opens a user, expands three levels of the tree and
pages through a level, changes a referrer and watches the job finish, approves a reward, and
retries a failed delivery. Data with markup in it must render as text. axe-core checks each
view. Screenshots of the views at 1280x800 and 390x844 go to the output folder.

usage: console_e2e.py API KEY [OUT]"""

import concurrent.futures
import json
import os
import re
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

API, KEY = sys.argv[1], sys.argv[2]
OUT = sys.argv[3] if len(sys.argv) > 3 else ".tools/console"
AXE = ".tools/axe/node_modules/axe-core/axe.min.js"
NET = "demo"
DEMO_HOOK = "wh_DemoHook1111111111111"
FAILED_MESSAGE = "msg_19af0000000bbbbbbbbbbbbbbbbbbbb"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}

S = str(time.time_ns())[-9:]
PROG = f"con{S}"
# Markup in a program name and in an email's (quoted) local part: both must stay text.
XSS_NAME = f'<img src=x onerror="window.__xss=1">Spring <b>contest</b> {S}'
XSS_USER = f'"<img/src=x/onerror=window.__xss=2>{S}"@x.io'
ROOT = f"root{S}@x.io"
KIDS = [f"c{i}.{S}@x.io" for i in range(30)]
G0, GG0 = f"g0.{S}@x.io", f"gg0.{S}@x.io"
DEST = f"dest{S}@x.io"


def api(method, path, body=None, key=KEY):
    req = urllib.request.Request(
        f"{API}/networks/{NET}/{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def q(s):
    return urllib.parse.quote(s, safe="")


def link(user, referrer):
    status, body = api("POST", f"connections/{PROG}", {"user": user, "connection": referrer})
    assert status in (200, 201), (user, status, body)


def until(what, fn, timeout=60.0):
    end = time.time() + timeout
    while time.time() < end:
        got = fn()
        if got:
            return got
        time.sleep(0.3)
    raise AssertionError(f"timed out: {what}")


def seed():
    status, body = api("PUT", f"connections/{PROG}", {"name": XSS_NAME})
    assert status == 201, body
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: link(k, ROOT), KIDS))
        # Enough below c1 that moving the root is a job, not one transaction.
        list(pool.map(lambda i: link(f"k{i}.{S}@x.io", KIDS[1]), range(60)))
    link(G0, KIDS[0])
    link(XSS_USER, KIDS[0])
    link(GG0, G0)
    status, body = api(
        "PUT",
        f"connections/{PROG}/rules/review",
        {"rule": {"event": "purchase", "levels": [{"level": 1, "amount_usd_cents": 500}], "hold_days": 30}},
    )
    assert status == 201, body
    status, body = api(
        "POST", "events", {"event_id": f"ord{S}", "user": GG0, "event": "purchase", "amount_usd_cents": 1000}
    )
    assert status == 202, body
    ev = until("the event's rewards", lambda: (lambda b: b["event"] if b["event"]["settled"] else None)(
        api("GET", f"events/ord{S}")[1]))
    assert len(ev["rewards"]) == 1 and ev["rewards"][0]["status"] == "pending", ev
    # The tree's counts come from the stream: the page is opened once they settled.
    until("the root's counts", lambda: api("GET", f"connections/{PROG}/users/{q(ROOT)}?level=1")[1]
          .get("downline_counts", {}).get("1") == 30)
    return ev["rewards"][0]["reward_id"]


def browser():
    o = Options()
    o.binary_location = "/usr/bin/chromium"
    for a in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync",
              "--disable-dev-shm-usage", f"--user-data-dir={tempfile.mkdtemp(prefix='console-e2e-')}",
              "--window-size=1280,800"]:
        o.add_argument(a)
    o.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    d.set_script_timeout(60)
    return d


class Page:
    def __init__(self, d):
        self.d = d
        self.wait = WebDriverWait(d, 60)
        with open(AXE, encoding="utf-8") as f:
            self.axe = f.read()
        self.checked = []

    def text(self):
        return self.d.find_element(By.TAG_NAME, "body").text

    def see(self, text, within=None):
        root = within or self.d
        self.wait.until(lambda _: text in (root.text if within else self.text()))

    def button(self, label):
        xp = f"//button[normalize-space(.)={json.dumps(label)}]"
        return self.wait.until(lambda d: next((b for b in d.find_elements(By.XPATH, xp) if b.is_displayed()), None))

    def fill(self, form_label, values):
        f = self.d.find_element(By.CSS_SELECTOR, f"form[aria-label={json.dumps(form_label)}]")
        for name, value in values.items():
            el = f.find_element(By.NAME, name)
            el.clear()
            el.send_keys(value)
        return f

    def submit(self, form_label, values, button):
        f = self.fill(form_label, values)
        f.find_element(By.XPATH, f".//button[normalize-space(.)={json.dumps(button)}]").click()

    def nav(self, label):
        self.d.find_element(By.CSS_SELECTOR, f"nav#nav button[data-view={label.lower()}]").click()

    def no_script_ran(self):
        assert self.d.execute_script("return window.__xss === undefined"), "a script from data ran"
        assert not self.d.find_elements(By.CSS_SELECTOR, "img, b, svg, script:not([src])"), \
            "an element was made from data"

    def accessible(self, view):
        self.d.execute_script(self.axe)
        violations = self.d.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
            ".then(r => done(r.violations.map(v => ({id: v.id, impact: v.impact,"
            " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))), e => done([{id: String(e)}]));"
        )
        assert not violations, f"axe, {view}: {violations}"
        self.checked.append(view)

    def shot(self, view, size):
        w, h = SIZES[size]
        self.d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": size == "phone"})
        d = self.d
        d.execute_script("window.scrollTo(0, 0)")
        time.sleep(0.2)
        # Against the emulated width: a phone zooms out to fit wider content.
        wide = d.execute_script("return document.documentElement.scrollWidth") - w
        assert wide <= 1, f"{view} at {w}x{h} scrolls sideways by {wide}px"
        self.d.save_screenshot(os.path.join(OUT, f"{view}-{size}.png"))


def main():
    os.makedirs(OUT, exist_ok=True)
    reward_id = seed()
    d = browser()
    p = Page(d)
    try:
        d.get(f"{API}/console")
        p.wait.until(lambda _: d.find_element(By.ID, "network").is_displayed())
        csp = [e for e in d.get_log("browser") if "Content Security Policy" in e.get("message", "")]
        assert not csp, csp

        # A wrong key: the contract's 401, next to the key form.
        d.find_element(By.ID, "network").clear()
        d.find_element(By.ID, "network").send_keys(NET)
        d.find_element(By.ID, "key").send_keys("not-a-key", Keys.ENTER)
        p.see("unauthorized", d.find_element(By.ID, "session-status"))

        # The key by keyboard alone: the network field, Tab to the key, Enter.
        net = d.find_element(By.ID, "network")
        net.click()
        net.send_keys(Keys.END)
        net.send_keys(Keys.TAB)
        assert d.switch_to.active_element.get_attribute("id") == "key", "Tab goes to the key"
        d.switch_to.active_element.send_keys(KEY, Keys.ENTER)
        p.see(f"Using network {NET}")
        assert d.execute_script("return sessionStorage.getItem('refnet.key')") == KEY
        assert d.execute_script("return localStorage.length") == 0
        assert d.execute_script("return document.cookie") == ""
        assert KEY not in d.current_url
        assert d.find_element(By.ID, "key").get_attribute("value") == "", "the key field is cleared"

        # Programs: the name with markup is text.
        p.see(PROG)
        cells = [c.text for c in d.find_elements(By.CSS_SELECTOR, "tbody td")]
        assert XSS_NAME in cells, "the program's name, as text"
        p.no_script_ran()
        p.accessible("programs")
        p.shot("programs", "desktop")

        # A user: level 1 in two pages, then three levels down.
        p.nav("User")
        p.submit("Open a user", {"program": PROG, "user": ROOT}, "Open user")
        p.see("30 direct")
        top = lambda: d.find_elements(By.CSS_SELECTOR, "#view ul.tree[aria-label^='Referees of root'] > li.node")
        p.wait.until(lambda _: len(top()) == 25)
        p.button(f"More referees of {ROOT}").click()
        p.wait.until(lambda _: len(top()) == 30)
        p.button(KIDS[0]).click()
        p.see(G0)
        p.see(XSS_USER)
        p.button(G0).click()
        p.see(GG0)
        p.button(GG0).click()
        p.see("No referees.")
        assert p.button(GG0).get_attribute("aria-expanded") == "true"
        p.no_script_ran()
        p.accessible("user")
        p.shot("user", "desktop")

        # A move of 90-odd members: a job, shown as progress until done.
        p.submit("Change referrer", {"connection": DEST}, "Change referrer")
        p.see("it moves as a job")
        p.wait.until(lambda _: d.find_elements(By.CSS_SELECTOR, "progress"))
        WebDriverWait(d, 120).until(lambda _: "done," in p.text())
        p.wait.until(lambda _: DEST in d.find_element(By.CSS_SELECTOR, "nav[aria-label=Upline]").text)
        moved = re.search(r"done, (\d+) of (\d+) moved", p.text())
        assert moved and moved[1] == moved[2] and int(moved[1]) > 90, p.text()

        # An error where it was caused: an unknown program.
        p.submit("Open a user", {"program": f"nope{S}", "user": ROOT}, "Open user")
        p.see("program_not_found")

        # Rewards: the review queue, and approve.
        p.nav("Rewards")
        p.submit("Choose a program", {"program": PROG}, "Show rules and review queue")
        p.wait.until(lambda _: d.find_elements(By.XPATH, "//td[normalize-space(.)='review']"))
        row = p.wait.until(lambda _: d.find_element(By.CSS_SELECTOR, f"tr[data-reward='{reward_id}']"))
        assert "pending" in row.text
        p.button(f"Approve {reward_id}").click()
        p.wait.until(lambda _: "approved" in d.find_element(By.CSS_SELECTOR, f"tr[data-reward='{reward_id}']").text)
        p.see("Approved.")
        got = api("GET", f"users/{q(G0)}/rewards?program_id={PROG}")[1]
        assert [r["status"] for r in got["rewards"]] == ["approved"], got
        p.no_script_ran()
        p.accessible("rewards")
        p.shot("rewards", "desktop")

        # Webhooks: a failed delivery, and its retry.
        p.nav("Webhooks")
        p.button(f"Deliveries of {DEMO_HOOK}").click()
        Select(p.wait.until(lambda _: d.find_element(By.CSS_SELECTOR, "#view select[name=status]"))).select_by_value("failed")
        sel = f"tr[data-message='{FAILED_MESSAGE}']"
        row = p.wait.until(lambda _: d.find_element(By.CSS_SELECTOR, sel))
        statuses = [r.text for r in d.find_elements(By.CSS_SELECTOR, "tr[data-message] td:nth-child(3)")]
        assert statuses and set(statuses) == {"failed"}, f"the failed filter shows {statuses}"
        p.button(f"Retry {FAILED_MESSAGE}").click()
        p.see("Retry queued")
        assert "pending" in d.find_element(By.CSS_SELECTOR, sel).text
        assert len(d.find_elements(By.CSS_SELECTOR, sel)) == 1, "one row per delivery"
        p.accessible("webhooks")
        p.shot("webhooks", "desktop")

        # The phone's size: every main view, nothing wider than the screen.
        for view in ["webhooks", "rewards", "user", "programs"]:
            if view != "webhooks":
                p.nav(view)
                if view == "user":
                    p.submit("Open a user", {"program": PROG, "user": ROOT}, "Open user")
                    p.see("Downline")
                elif view == "rewards":
                    p.submit("Choose a program", {"program": PROG}, "Show rules and review queue")
                    p.wait.until(lambda _: d.find_elements(By.XPATH, "//td[normalize-space(.)='review']"))
                else:
                    p.see(PROG)
            p.shot(view, "phone")
        p.no_script_ran()
    except Exception:
        d.save_screenshot(os.path.join(OUT, "failure.png"))
        print("console e2e: the page showed:\n" + p.text()[-3000:], file=sys.stderr)
        raise
    finally:
        d.quit()
    print(f"console e2e: every step passed; axe clean on {', '.join(p.checked)}; screenshots in {OUT}")


if __name__ == "__main__":
    main()
