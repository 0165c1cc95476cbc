"""The web dashboard in a real browser: headless Chromium (Debian's chromium and
chromium-driver, driven by selenium) against the `tern` binary on loopback. Screenshots of each
page go to interop/.artifacts/dashboard/."""
import datetime
import json
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from conftest import DEST, DOMAIN, PASSWORD, USER

ARTIFACTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), ".artifacts", "dashboard")

selenium = pytest.importorskip("selenium")
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402


@pytest.fixture
def browser():
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.fail("chromium and chromium-driver are needed (scripts/test installs them)")
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking"):
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=options)
    driver.set_page_load_timeout(30)
    os.makedirs(ARTIFACTS, exist_ok=True)
    yield driver
    driver.quit()


def shot(driver, name):
    driver.save_screenshot(os.path.join(ARTIFACTS, f"{name}.png"))


def api(server, method, path, body=None, key=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(server.http_url + path, data=data, method=method)
    req.add_header("Authorization", f"Bearer {key or server.key}")
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read()
            return resp.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, None


def log_in(driver, server, email, password):
    driver.get(server.http_url + "/dashboard/login")
    # No message on a fresh form.
    assert not driver.find_elements(By.CSS_SELECTOR, "p.error")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(password)
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.stacked button"))


def click_and_wait(driver, element):
    """Clicks a link or button and waits until the page it leads to has replaced this one."""
    old = driver.find_element(By.TAG_NAME, "html")
    element.click()

    def replaced():
        try:
            old.tag_name
            return False
        except Exception:  # noqa: BLE001 - stale: the new page is there
            return True
    assert wait_for(replaced)


def form_post(server, path, fields, cookie):
    """A POST as another site (or a script) would make it: no browser, the cookie given."""
    data = urllib.parse.urlencode(fields).encode()
    req = urllib.request.Request(server.http_url + path, data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    req.add_header("Cookie", cookie)
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def wait_for(condition, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


def test_a_sender_logs_in_sees_its_mail_and_manages_keys(api_server, browser):
    server, sink = api_server
    driver = browser
    # Signed out, every page leads to the login form; a wrong password says so.
    driver.get(server.http_url + "/dashboard/activity")
    assert driver.current_url.endswith("/dashboard/login")
    shot(driver, "login")
    log_in(driver, server, USER, "wrong-password")
    assert "Wrong address or password" in driver.find_element(By.CSS_SELECTOR, "p.error").text
    # Keyboard only: Tab from the top of the page reaches the address, then the password, and
    # Enter submits.
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys
    driver.get(server.http_url + "/dashboard/login")
    reached = []
    for _ in range(6):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        reached.append(driver.switch_to.active_element.get_attribute("id") or driver.switch_to.active_element.tag_name)
        if reached[-1] == "email":
            break
    assert reached[-1] == "email", reached
    ActionChains(driver).send_keys(USER, Keys.TAB, PASSWORD).perform()
    assert driver.switch_to.active_element.get_attribute("id") == "password"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    assert wait_for(lambda: driver.find_elements(By.CSS_SELECTOR, ".who") and driver.find_element(By.CSS_SELECTOR, ".who").text == USER)
    cookie = driver.get_cookie("tern_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/dashboard"

    # A message through the API shows up in Activity, then on its own page with its events.
    subject = "Dashboard <b>check</b>"
    status, _ = api(server, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": f"reader@{DEST}"}]}], "from": {"email": USER}, "subject": subject,
        "content": [{"type": "text/plain", "value": "Seen in the dashboard."}], "categories": ["dash"]})
    assert status == 202
    assert wait_for(lambda: len(sink.messages) >= 1)

    def delivered_row():
        driver.get(server.http_url + "/dashboard/activity?to=" + urllib.parse.quote(f"reader@{DEST}"))
        rows = driver.find_elements(By.CSS_SELECTOR, "table.messages tbody tr")
        return rows and "delivered" in rows[0].text and rows[0]
    assert wait_for(delivered_row)
    row = delivered_row()
    # The subject is text, not markup.
    assert subject in row.text and not driver.find_elements(By.CSS_SELECTOR, "table.messages b")
    shot(driver, "activity")
    click_and_wait(driver, row.find_element(By.TAG_NAME, "a"))
    assert "/dashboard/messages/" in driver.current_url
    message_url = driver.current_url
    timeline = driver.find_element(By.CSS_SELECTOR, "ol.timeline").text
    assert "queued" in timeline and "delivered" in timeline and "250" in timeline
    assert driver.find_element(By.CSS_SELECTOR, ".facts").text.count("dash") == 1
    # Delivered, so its body is gone: the header is kept and shown, the source is not.
    assert "The body was deleted at" in driver.page_source
    header = driver.find_element(By.CSS_SELECTOR, "pre.source").text
    assert "DKIM-Signature:" in header and "Subject: Dashboard <b>check</b>" in header
    assert "Seen in the dashboard." not in driver.page_source and "Raw source" not in driver.page_source
    shot(driver, "message")

    # The overview's chart says what /v3/stats says for the same days.
    driver.get(server.http_url + "/dashboard")
    shot(driver, "overview")
    assert driver.find_element(By.CSS_SELECTOR, "svg.chart")
    table = {}
    for tr in driver.find_elements(By.CSS_SELECTOR, "table.chart-data tbody tr"):
        cells = [td.get_attribute("textContent") for td in tr.find_elements(By.CSS_SELECTOR, "th, td")]
        table[cells[0]] = [int(x) for x in cells[1:]]
    assert len(table) == 30
    days = sorted(table)
    status, stats = api(server, "GET", f"/v3/stats?start_date={days[0]}&end_date={days[-1]}")
    assert status == 200
    from_api = {p["date"]: p["stats"][0]["metrics"] for p in stats}
    for day in days:
        m = from_api[day]
        assert table[day] == [m["requests"], m["delivered"], m["bounces"], m["deferred"], m["opens"], m["clicks"]], day
    today = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d")
    assert table[today][0] >= 1 and table[today][1] >= 1

    # A key: created (its secret shown once and working), then revoked (and refused).
    driver.get(server.http_url + "/dashboard/keys")
    driver.find_element(By.ID, "name").send_keys("selenium")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.stacked button"))
    secret = driver.find_element(By.CSS_SELECTOR, "code.secret").text

    def key_row():
        return [tr.text for tr in driver.find_elements(By.CSS_SELECTOR, "table.keys tbody tr") if "selenium" in tr.text][0]
    assert "never" in key_row()
    shot(driver, "keys")
    assert api(server, "GET", "/v3/api_keys", key=secret)[0] == 200

    def used():
        driver.get(server.http_url + "/dashboard/keys")
        return "never" not in key_row()
    # Its use shows as "last used" (written in the background, at most once a minute).
    assert wait_for(used, timeout=10), key_row()
    assert datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT") in key_row()
    assert not driver.find_elements(By.CSS_SELECTOR, "code.secret")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "button[aria-label='Revoke selenium']"))
    assert "revoked" in driver.find_element(By.CSS_SELECTOR, "table.keys").text
    assert api(server, "GET", "/v3/api_keys", key=secret)[0] == 401

    # A form posted without the session's CSRF token is refused, and changes nothing.
    session = f"tern_session={driver.get_cookie('tern_session')['value']}"
    status, _ = form_post(server, "/dashboard/keys", {"name": "forged"}, session)
    assert status == 403
    assert "forged" not in server.cli("key", "list", USER).stdout

    # Another account cannot open this message's page by its URL.
    driver.delete_all_cookies()
    log_in(driver, server, f"bob@{DOMAIN}", "another-pass")
    assert driver.find_element(By.CSS_SELECTOR, ".who").text == f"bob@{DOMAIN}"
    driver.get(message_url)
    assert driver.find_element(By.TAG_NAME, "h1").text == "No such message"
    assert subject not in driver.page_source

    # Logging out ends the session: the old cookie opens nothing.
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.logout button"))
    assert driver.current_url.endswith("/dashboard/login")


def test_an_operator_sees_the_queue_and_a_phone_sized_page_works(api_server, browser):
    server, _ = api_server
    server.cli("user", "set-admin", USER)
    driver = browser
    driver.set_window_size(390, 844)
    log_in(driver, server, USER, PASSWORD)
    assert "(operator)" in driver.find_element(By.CSS_SELECTOR, ".who").text
    assert "Queue (all accounts)" in driver.page_source
    # Nothing overflows a phone's width.
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 390
    shot(driver, "overview-phone")

    # The queue of every account: a message to a destination that refuses it waits there, and
    # is removed from the page.
    driver.set_window_size(1280, 1000)
    status, _ = api(server, "POST", "/v3/mail/send", {
        "personalizations": [{"to": [{"email": "nobody@nowhere.test"}]}], "from": {"email": USER}, "subject": "stuck",
        "content": [{"type": "text/plain", "value": "x"}]})
    assert status == 202

    def listed():
        driver.get(server.http_url + "/dashboard/queue")
        return "nobody@nowhere.test" in driver.find_element(By.CSS_SELECTOR, "table.queue").text
    assert wait_for(listed)
    shot(driver, "queue")
    # Server health: this node's listeners, the waiting recipient, the certificate's expiry.
    driver.get(server.http_url + "/dashboard/health")
    assert f"127.0.0.1:{server.submission_port}" in driver.find_element(By.CSS_SELECTOR, "table.listeners").text
    depth = {}
    for tr in driver.find_elements(By.CSS_SELECTOR, "table.queue-depth tbody tr"):
        state, count = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        depth[state] = int(count)
    assert set(depth) == {"queued", "delivering", "deferred"} and sum(depth.values()) >= 1, depth
    assert "expires 20" in driver.find_element(By.CSS_SELECTOR, "main").text
    shot(driver, "health")
    queue_id = [m["id"] for m in server.queue() if m["recipients"][0]["address"] == "nobody@nowhere.test"][0]
    driver.get(server.http_url + "/dashboard/queue")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, f"button[aria-label='Remove {queue_id}']"))
    assert "nobody@nowhere.test" not in driver.find_element(By.CSS_SELECTOR, "table.queue").text
    assert all(m["id"] != queue_id for m in server.queue())

    # A domain: the records to publish with copy buttons, and the live check (this server's
    # resolver points at a closed port, so every lookup fails and says so).
    driver.get(server.http_url + "/dashboard/domains")
    click_and_wait(driver, driver.find_element(By.LINK_TEXT, DOMAIN))
    values = [b.get_attribute("data-copy") for b in driver.find_elements(By.CSS_SELECTOR, "button[data-copy]")]
    assert "10 mx.example.test." in values and any(v.startswith("v=DKIM1;") for v in values)
    click_and_wait(driver, driver.find_element(By.XPATH, "//button[text()='Check DNS now']"))
    findings = driver.find_element(By.CSS_SELECTOR, "table.findings").text
    assert "MX" in findings and "lookup failed" in findings
    shot(driver, "domain")

    # Users: a new one added from the form can log in over SMTP AUTH at once.
    driver.get(server.http_url + "/dashboard/users")
    driver.find_element(By.ID, "new-address").send_keys(f"dave@{DOMAIN}")
    driver.find_element(By.ID, "new-password").send_keys("dave-password")
    click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.stacked button"))
    assert f"Added dave@{DOMAIN}" in driver.find_element(By.CSS_SELECTOR, "p.notice").text
    shot(driver, "users")

    # Every page fits a phone's width (and so 200% zoom of a 780 px window): wide tables scroll
    # inside themselves, the page does not.
    driver.set_window_size(390, 844)
    for path in ("", "/activity", "/keys", "/webhooks", "/suppressions", "/sandbox", "/domains", f"/domains/{DOMAIN}", "/queue",
                 "/users", "/health"):
        driver.get(server.http_url + "/dashboard" + path)
        assert driver.find_element(By.TAG_NAME, "h1")
        width = driver.execute_script("return document.documentElement.scrollWidth")
        # For the failure message: the element reaching furthest right outside a scroll box.
        widest = driver.execute_script(
            "let w = null; for (const e of document.querySelectorAll('body *')) {"
            " if (e.closest('.scroll') && !e.matches('.scroll')) continue;"
            " const r = e.getBoundingClientRect(); if (r.right > window.innerWidth && (!w || r.right > w[1])) w = [e.outerHTML.slice(0, 120), r.right]; }"
            " return w;")
        assert width <= driver.execute_script("return window.innerWidth"), (path, width, widest)
    driver.set_window_size(1280, 1000)
    import smtplib
    with smtplib.SMTP("127.0.0.1", server.submission_port, timeout=30) as client:
        client.starttls()
        client.login(f"dave@{DOMAIN}", "dave-password")


class PixelServer:
    """Counts every request: a remote load from a captured message would show here."""

    def __init__(self):
        import http.server
        import threading
        hits = self.hits = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_the_sandbox_inbox_shows_html_without_running_it_and_suppressions_are_removed(api_server, browser):
    server, sink = api_server
    driver = browser
    pixel = PixelServer()
    try:
        log_in(driver, server, USER, PASSWORD)
        # A sandbox key, made in the dashboard.
        driver.get(server.http_url + "/dashboard/keys")
        driver.find_element(By.ID, "name").send_keys("sandbox")
        driver.find_element(By.NAME, "sandbox").click()
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.stacked button"))
        key = driver.find_element(By.CSS_SELECTOR, "code.secret").text
        html = (f'<html><body><p id="hello">Hello from the frame</p>'
                f'<script>document.title = "pwned"; try {{ parent.document.body.dataset.pwned = "1" }} catch (e) {{}}</script>'
                f'<img src="http://127.0.0.1:{pixel.port}/open.gif"></body></html>')
        status, _ = api(server, "POST", "/v3/mail/send", {
            "personalizations": [{"to": [{"email": f"dev@{DEST}"}]}], "from": {"email": USER}, "subject": "Captured <i>HTML</i>",
            "content": [{"type": "text/plain", "value": "The text part."}, {"type": "text/html", "value": html}]}, key=key)
        assert status == 202
        driver.get(server.http_url + "/dashboard/sandbox")
        click_and_wait(driver, driver.find_element(By.LINK_TEXT, "Captured <i>HTML</i>"))
        assert "The text part." in driver.find_element(By.CSS_SELECTOR, "pre.source").text
        frame = driver.find_element(By.CSS_SELECTOR, "iframe.mail")
        driver.switch_to.frame(frame)
        assert wait_for(lambda: driver.find_elements(By.ID, "hello"))
        assert driver.find_element(By.ID, "hello").text == "Hello from the frame"
        # The script did not run, in the frame or against the dashboard.
        assert driver.execute_script("return document.title") != "pwned"
        driver.switch_to.default_content()
        assert driver.execute_script("return document.body.dataset.pwned") is None
        shot(driver, "sandbox")
        time.sleep(0.5)
        assert pixel.hits == [], "the captured message loaded a remote image"
        assert len(sink.messages) == 0, "a sandbox message was sent"

        # A suppression, removed from its list in the dashboard.
        server.cli("suppression", "add", USER, "bounces", f"gone@{DEST}")
        driver.get(server.http_url + "/dashboard/suppressions?list=bounces")
        shot(driver, "suppressions")
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, f"button[aria-label='Remove gone@{DEST}']"))
        assert f"gone@{DEST}" not in driver.find_element(By.CSS_SELECTOR, "table.suppressions").text
        assert f"gone@{DEST}" not in server.cli("suppression", "list", USER, "--list", "bounces").stdout
    finally:
        pixel.stop()


@pytest.fixture
def api_server(tern_factory, sink):
    from conftest import routed_tern
    return routed_tern(tern_factory, sink), sink


def test_a_webhook_is_added_tested_and_its_deliveries_listed(tern_factory, sink, browser):
    """Add a webhook in the dashboard, turn signing on, press test: the receiver gets a sample
    event whose signature SendGrid's own verifier accepts. Then real events, an outage and the
    retry that follows show in the page's recent deliveries with their status codes."""
    from conftest import free_port, routed_tern
    from test_http_webhooks import Receiver
    server = routed_tern(
        tern_factory, sink, '[http]\nallow_private_webhooks = true\nwebhook_batch_delay = "1s"\nwebhook_retry_delay = "1s"\n')
    receiver = Receiver(free_port())
    driver = browser
    try:
        log_in(driver, server, USER, PASSWORD)
        driver.get(server.http_url + "/dashboard/webhooks")
        driver.find_element(By.ID, "url").send_keys(f"http://127.0.0.1:{receiver.port}/events")
        driver.find_element(By.ID, "name").send_keys("CI receiver")
        # Every event is ticked to begin with; leave out opens.
        driver.find_element(By.CSS_SELECTOR, "input[name=event][value=open]").click()
        click_and_wait(driver, driver.find_element(By.CSS_SELECTOR, "form.stacked button"))
        assert "/dashboard/webhooks/" in driver.current_url
        webhook_url = driver.current_url
        status, hooks = api(server, "GET", "/v3/user/webhooks/event/settings/all")
        assert status == 200 and len(hooks["webhooks"]) == 1
        hook = hooks["webhooks"][0]
        assert hook["url"] == f"http://127.0.0.1:{receiver.port}/events" and hook["friendly_name"] == "CI receiver"
        assert hook["delivered"] and hook["processed"] and not hook["open"]

        # Signing on: the page shows the key the API shows, and the test event verifies with it.
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[text()='Turn signing on']"))
        status, signed = api(server, "GET", f"/v3/user/webhooks/event/settings/signed/{hook['id']}")
        assert status == 200 and signed["public_key"] in driver.page_source
        receiver.public_key = signed["public_key"]
        click_and_wait(driver, driver.find_element(By.XPATH, "//button[text()='Send a test event']"))
        assert "Test event delivered: the receiver answered HTTP 200" in driver.find_element(By.CSS_SELECTOR, "p.notice").text
        assert len(receiver.batches) == 1
        verified, batch = receiver.batches[0]
        assert verified is True and batch[0]["event"] == "processed" and batch[0]["category"] in ("test", ["test"])
        rows = driver.find_elements(By.CSS_SELECTOR, "table.attempts tbody tr")
        assert len(rows) == 1 and "test" in rows[0].text and "200" in rows[0].text

        # Real events: a message delivered to the sink posts processed and delivered.
        status, _ = api(server, "POST", "/v3/mail/send", {
            "personalizations": [{"to": [{"email": f"hooked@{DEST}"}]}], "from": {"email": USER}, "subject": "hooked",
            "content": [{"type": "text/plain", "value": "x"}]})
        assert status == 202
        receiver.wait_for(lambda events: any(e["event"] == "delivered" and e["email"] == f"hooked@{DEST}" for e in events))

        # The receiver goes down: the next batch fails, is retried, and arrives once it is back.
        receiver.stop()
        status, _ = api(server, "POST", "/v3/mail/send", {
            "personalizations": [{"to": [{"email": f"later@{DEST}"}]}], "from": {"email": USER}, "subject": "later",
            "content": [{"type": "text/plain", "value": "x"}]})
        assert status == 202

        def attempts():
            driver.get(webhook_url)
            return [row.text for row in driver.find_elements(By.CSS_SELECTOR, "table.attempts tbody tr")]
        assert wait_for(lambda: any("failed, will retry" in text and "no answer" in text for text in attempts()), timeout=30), attempts()
        receiver.start()
        receiver.wait_for(lambda events: any(e["event"] == "delivered" and e["email"] == f"later@{DEST}" for e in events))
        assert wait_for(lambda: any("delivered" in text and "retry " in text for text in attempts()), timeout=30), attempts()
        texts = attempts()
        assert any("events" in text and "200" in text and "first try" in text for text in texts), texts
        assert "failing" not in driver.find_element(By.CSS_SELECTOR, ".facts").text
        shot(driver, "webhook")
        driver.get(server.http_url + "/dashboard/webhooks")
        assert "CI receiver" in driver.find_element(By.CSS_SELECTOR, "table.webhooks").text
        shot(driver, "webhooks")
    finally:
        receiver.stop()
