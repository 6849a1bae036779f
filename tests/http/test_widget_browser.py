"""The chat widget in a real browser: headless Debian chromium (selenium, the system chromedriver) against a real
`python -m agent serve` on loopback, on the tiny bot with small talk on (so asking for a person hands over).

The server has ONLY a widget key: whatever the page gets past opening the conversation, it gets with the
conversation's token. Streaming is seen on a second server, in this process, with the tiny decoder (the
session fixtures test_http_stream.py shares). The widget lives in a shadow root: the tests reach in
through `shadow_root`.
Skipped when chromium or chromedriver is missing, unless AGENT_REQUIRE_SERVICES=1 (CI installs them).
Order matters: the last test stops the server.
"""

from __future__ import annotations

import http.server
import os
import re
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from threaded import uvicorn_thread
from tiny_decoder import BASIC, PLUS, TARGETS, with_tiny_decoder
from tinybot import write_tiny_bot

from agent.exceptions import ServeError
from agent.http import ApiKeys, create_app
from agent.http.launch import ServedProcess, free_port
from agent.pipeline.dialog import Agent
from agent.steps.encoder import Encoder
from agent.storage.store import Store, StoredTurn

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.common.exceptions import NoSuchElementException, WebDriverException  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.remote.shadowroot import ShadowRoot  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WIDGET_KEY = "site-key"
WAIT_S = 20  # a reply on a busy 2-core machine takes well under a second; this is the hang guard


def _chromium() -> tuple[str, str]:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")  # Debian's chromium-driver: /usr/bin/chromedriver
    if browser and driver:
        return browser, driver
    missing = "chromium" if not browser else "chromedriver"
    if os.environ.get("AGENT_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{missing} is required (AGENT_REQUIRE_SERVICES=1): apt-get install -y chromium chromium-driver")
    pytest.skip(f"{missing} not installed (apt-get install -y chromium chromium-driver)")


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """Another origin: a shop's page that embeds the widget with the one script tag."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _ShopPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _ShopPage(http.server.BaseHTTPRequestHandler):
    """Serves `page` at every path, quietly."""

    page = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.write(self.page)

    def log_message(self, *_: Any) -> None:
        pass


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, site: str) -> Iterator[ServedProcess]:
    _chromium()  # no browser: skip before starting anything
    bot = write_tiny_bot(
        tmp_path_factory.mktemp("widget") / "bot",
        config={
            "name": "Tiny bot",
            # One torch thread: the classifier's many tiny steps are fastest that way, above all on a busy CPU.
            "encoder": {"threads": 1},
            # Two folds: `serve` trains the tiny bot in about two seconds; small talk on (the default) brings
            # the built-in human_handoff intent.
            "intents": {"confident": 0.3, "oos_threshold": 0.2, "calibration_folds": 2},
            "widget": {"title": "Tiny help", "primary_color": "#0b6e4f"},
            # Three messages a minute per conversation, so one test can meet the limit in a second.
            "http": {"cors_origins": [site], "rate_limit": {"per_conversation": "3/minute"}},
        },
    )
    secret = {"AGENT_TOKEN_SECRET": secrets.token_urlsafe(32)}
    try:
        # `serve` builds the bot first (it is stale: never trained), then starts with only the widget key.
        served = ServedProcess.start(
            bot, f"sqlite:///{bot / 'served.db'}", 1, f"{WIDGET_KEY}:widget", bot / "log", env=secret
        )
    except ServeError as exc:
        pytest.fail(str(exc))
    yield served
    served.stop()


@pytest.fixture(scope="module")
def streaming(
    tiny_trained_dir: Path, tiny_decoder_dir: Path, encoder: Encoder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The tiny bot with the tiny decoder (tests/tiny_decoder.py) under uvicorn in this process: replies stream.

    The decoder learnt a grounded Basic-card answer, which streams and stands, and a Plus-card answer
    with an invented fee, which streams and is then replaced by the template's answer.
    """
    _chromium()
    db = tmp_path_factory.mktemp("widget-stream") / "stream.db"
    agent = with_tiny_decoder(
        Agent.load(tiny_trained_dir, encoder=encoder, store_url=f"sqlite:///{db}"), tiny_decoder_dir
    )
    keys = ApiKeys.parse(f"{WIDGET_KEY}:widget", "test keys")
    with uvicorn_thread(create_app(agent, keys, token_secret=secrets.token_urlsafe(32))) as url:
        yield url
    agent.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    binary, driver = _chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1024,800"):
        options.add_argument(argument)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_page_load_timeout(WAIT_S)
    yield chrome
    chrome.quit()


# --- reaching into the widget ---------------------------------------------------------------------


def _root(browser: Any, host: str = "#support-chat") -> ShadowRoot:
    return browser.find_element(By.CSS_SELECTOR, host).shadow_root


def _messages(root: ShadowRoot) -> list[str]:
    """Each message as shown (the screen-reader prefix "You: " / "Tiny help: " included), without its thumbs."""
    shown = []
    for message in root.find_elements(By.CSS_SELECTOR, ".saw-msg"):
        text = " ".join(message.text.split())
        for thumbs in message.find_elements(By.CSS_SELECTOR, ".saw-feedback"):
            text = text.removesuffix(" ".join(thumbs.text.split())).rstrip()
        shown.append(text)
    return shown


def _turns(store: Store, conversation_id: str) -> list[StoredTurn]:
    """The conversation's rated turns."""
    record = store.conversation(conversation_id)
    return [t for t in record.turns if t.feedback is not None] if record else []


def _wait(browser: Any, condition: Callable[[], object], what: str) -> None:
    def check(_: Any) -> object:
        try:
            return condition()
        except (NoSuchElementException, WebDriverException, IndexError):  # IndexError: no message shown yet
            return False

    WebDriverWait(browser, WAIT_S, poll_frequency=0.1).until(check, f"timed out waiting for {what}")


def _settled(root: ShadowRoot) -> bool:
    """No typing indicator and no reply still streaming."""
    return not root.find_elements(By.CSS_SELECTOR, ".saw-typing, .saw-streaming")


def _say(browser: Any, root: ShadowRoot, text: str, expect: str) -> None:
    box = root.find_element(By.CSS_SELECTOR, "textarea")
    box.send_keys(text, Keys.ENTER)  # Enter sends
    _wait(browser, lambda: _settled(root) and any(expect in m for m in _messages(root)), f"a reply with {expect!r}")


# --- the tests --------------------------------------------------------------------------------------


def test_the_page_chats_keeps_the_conversation_and_shows_the_handoff(browser: Any, server: ServedProcess) -> None:
    browser.get(f"{server.url}/widget?key={WIDGET_KEY}")
    root = _root(browser)
    _wait(browser, lambda: "Hello! I'm Tiny bot. How can I help?" in _messages(root)[0], "the greeting")
    assert root.find_element(By.CSS_SELECTOR, ".saw-title").text == "Tiny help"  # bot.yaml widget.title
    assert root.find_element(By.CSS_SELECTOR, "[role=log]").get_attribute("aria-live") == "polite"
    box = root.find_element(By.CSS_SELECTOR, "textarea")
    assert root.find_element(By.CSS_SELECTOR, "label[for=saw-input]").get_attribute("textContent") == "Your message"

    _say(browser, root, "when is support open?", "Support is open 24/7 in the app.")
    assert _messages(root)[1:] == ["You: when is support open?", "Tiny help: Support is open 24/7 in the app."]
    assert box.get_attribute("value") == ""
    assert browser.execute_script("return arguments[0].activeElement === arguments[1]", root, box)  # focus stays
    # Only the token is kept for the conversation, never the widget key as its credential.
    saved = browser.execute_script("return Object.values(sessionStorage).join(' ')")
    assert '"token":"' in saved and f'"token":"{WIDGET_KEY}"' not in saved
    # Thumbs under the reply (not the greeting); "Not helpful" is kept in the store with that reply.
    assert not root.find_elements(By.CSS_SELECTOR, ".saw-greeting .saw-thumb")
    down = root.find_elements(By.CSS_SELECTOR, ".saw-msg-bot .saw-thumb-down")[-1]
    down.click()
    _wait(browser, lambda: down.get_attribute("aria-pressed") == "true", "the thumb to show it was sent")
    store = Store(f"sqlite:///{server.log.parent / 'served.db'}")
    try:
        rated = [(t.text, t.feedback.rating) for c in store.list_conversations() for t in _turns(store, c.id)]
    finally:
        store.close()
    assert rated == [("Support is open 24/7 in the app.", "down")]

    _say(browser, root, "can I talk to a person please", "passing you to a member of our team")
    banner = root.find_element(By.CSS_SELECTOR, ".saw-handoff")
    assert banner.is_displayed() and banner.text == "A person from our team will reply here."

    before = _messages(root)
    browser.refresh()  # the conversation comes back from the server, through its token
    root = _root(browser)
    _wait(browser, lambda: len(_messages(root)) == len(before) and _settled(root), "the transcript after reload")
    assert _messages(root) == before
    assert root.find_element(By.CSS_SELECTOR, ".saw-handoff").is_displayed()


# Every text a reply bubble showed while it streamed, recorded as the DOM changes (polling could miss a step).
RECORD_STREAM = """
const root = document.getElementById('support-chat').shadowRoot;
window.streamed = [];
new MutationObserver(() => {
  for (const el of root.querySelectorAll('.saw-streaming .saw-text')) window.streamed.push(el.textContent);
}).observe(root, {subtree: true, childList: true, characterData: true});
"""


def test_a_reply_streams_and_a_refused_draft_is_replaced(browser: Any, streaming: str) -> None:
    browser.get(f"{streaming}/widget?key={WIDGET_KEY}")
    root = _root(browser)
    _wait(browser, lambda: _settled(root) and _messages(root), "the greeting")
    browser.execute_script(RECORD_STREAM)

    _say(browser, root, BASIC, "EUR 0")
    assert _messages(root)[-1] == f"Tiny bot: {TARGETS[BASIC]}"  # the decoder's own words, accepted
    shown = browser.execute_script("return window.streamed")
    assert shown and shown[-1] == TARGETS[BASIC] and len(shown[0]) < len(TARGETS[BASIC])  # piece by piece

    browser.execute_script("window.streamed = []")
    _say(browser, root, PLUS, "EUR 4.99")
    last = root.find_elements(By.CSS_SELECTOR, ".saw-msg-bot")[-1]
    assert _messages(root)[-1] == "Tiny bot: The Plus card costs EUR 4.99 a month."  # the template's answer
    assert "saw-replaced" in last.get_attribute("class").split()
    assert any("9.99" in text for text in browser.execute_script("return window.streamed"))  # the refused draft


def test_a_message_over_the_limit_is_refused_with_the_limit(browser: Any, server: ServedProcess) -> None:
    browser.get(f"{server.url}/widget?key={WIDGET_KEY}")
    root = _root(browser)
    _wait(browser, lambda: _settled(root) and _messages(root), "the conversation")
    count = len(_messages(root))
    box = root.find_element(By.CSS_SELECTOR, "textarea")
    browser.execute_script("arguments[0].value = 'x'.repeat(2001); arguments[0].dispatchEvent(new Event('input'))", box)
    box.send_keys(Keys.ENTER)
    error = root.find_element(By.CSS_SELECTOR, "[role=alert]")
    _wait(browser, error.is_displayed, "the error")
    assert error.text == "Your message is 2,001 characters; the limit is 2,000. Please shorten it."
    assert len(_messages(root)) == count and len(box.get_attribute("value")) == 2001  # nothing sent, nothing lost


def test_embedded_with_one_tag_on_another_site_on_a_phone(browser: Any, server: ServedProcess, site: str) -> None:
    _ShopPage.page = (
        "<!doctype html><html><head><meta name=viewport content='width=device-width, initial-scale=1'>"
        "<style>button { background: red !important }</style></head><body><h1>Acme shop</h1>"
        f"<script src='{server.url}/widget.js' data-key='{WIDGET_KEY}' data-color='#ffd400' defer></script>"
        "</body></html>"
    ).encode()
    browser.set_window_size(375, 740)
    try:
        browser.get(f"{site}/")
        root = _root(browser, "body > .saw-host")
        launcher = root.find_element(By.CSS_SELECTOR, ".saw-launcher")
        _wait(browser, launcher.is_displayed, "the launcher")
        assert launcher.get_attribute("aria-expanded") == "false"
        # data-color, and the page's own `button` rule does not reach inside the widget
        assert launcher.value_of_css_property("background-color") == "rgba(255, 212, 0, 1)"
        launcher.click()
        _wait(browser, lambda: _settled(root) and _messages(root), "the greeting")
        _say(browser, root, "what are your opening hours", "Support is open 24/7")  # across origins: CORS
        width = browser.execute_script("return [document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"horizontal overflow at 375 px: {width}"
        panel = root.find_element(By.CSS_SELECTOR, ".saw-panel").rect
        assert panel["x"] >= 0 and panel["x"] + panel["width"] <= width[1]
        root.find_element(By.CSS_SELECTOR, "textarea").send_keys(Keys.ESCAPE)  # closes, focus back on the launcher
        assert not root.find_element(By.CSS_SELECTOR, ".saw-panel").is_displayed()
        assert launcher.get_attribute("aria-expanded") == "false"
        assert browser.execute_script("return arguments[0].activeElement === arguments[1]", root, launcher)
    finally:
        browser.set_window_size(1024, 800)


def test_a_new_conversation_then_too_many_messages_show_the_wait(browser: Any, server: ServedProcess) -> None:
    browser.get(f"{server.url}/widget?key={WIDGET_KEY}")
    root = _root(browser)
    _wait(browser, lambda: _settled(root) and len(_messages(root)) > 1, "the earlier conversation")
    root.find_element(By.CSS_SELECTOR, "button.saw-restart").click()
    greeting = "Tiny help: Hello! I'm Tiny bot. How can I help?"
    _wait(browser, lambda: _settled(root) and _messages(root) == [greeting], "a new conversation")
    assert not root.find_element(By.CSS_SELECTOR, ".saw-handoff").is_displayed()  # the handoff was the old one's

    for sent in range(1, 4):  # bot.yaml: three a minute
        _say(browser, root, "when is support open?", "24/7")
        _wait(browser, lambda n=sent: len(_messages(root)) == 1 + 2 * n, f"reply {sent}")
    root.find_element(By.CSS_SELECTOR, "textarea").send_keys("and on Sundays?", Keys.ENTER)
    error = root.find_element(By.CSS_SELECTOR, "[role=alert]")
    _wait(browser, error.is_displayed, "the rate-limit error")
    wait = r"You're sending messages faster than the chat allows\. Please wait (\d+) s, then send again\."
    match = re.fullmatch(wait, error.text)
    assert match and 1 <= int(match.group(1)) <= 60, error.text  # the server's Retry-After
    send = root.find_element(By.CSS_SELECTOR, "button.saw-send")
    assert not send.is_enabled() and re.fullmatch(r"Wait \d+ s", send.text)
    assert len(_messages(root)) == 7 and root.find_element(By.CSS_SELECTOR, "textarea").get_attribute("value")


def test_with_the_server_stopped_the_page_says_so(browser: Any, server: ServedProcess) -> None:
    browser.get(f"{server.url}/widget?key={WIDGET_KEY}")
    root = _root(browser)
    _wait(browser, lambda: _settled(root) and _messages(root), "the conversation")
    count = len(_messages(root))
    server.stop()
    root.find_element(By.CSS_SELECTOR, "textarea").send_keys("is the card free", Keys.ENTER)
    error = root.find_element(By.CSS_SELECTOR, "[role=alert]")
    _wait(browser, error.is_displayed, "the error")
    assert error.text == "Can't reach the chat service. Check your connection, then try again."
    assert len(_messages(root)) == count  # the unsent message is not shown as sent...
    assert root.find_element(By.CSS_SELECTOR, "textarea").get_attribute("value") == "is the card free"  # ...nor lost
