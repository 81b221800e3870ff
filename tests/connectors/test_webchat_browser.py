"""The web chat widget in headless Chromium, talking to the live assistant.

Each test opens the demo page in a fresh browser context (so a new session) and
asserts on what the citizen sees. A screenshot of every test's final state is
saved to ``results/screenshots/<test name>.png``.
"""

from pathlib import Path
from typing import Iterator, List

import pytest
from playwright.sync_api import (
    Browser,
    Dialog,
    Locator,
    Page,
    Request,
    WebSocket,
    expect,
    sync_playwright,
)

from tests.connectors.conftest import Live

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "results" / "screenshots"
TIMEOUT = 30_000
PLACEHOLDER = "请输入您的问题，按回车发送"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    expect.set_options(timeout=TIMEOUT)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


@pytest.fixture
def chat(
    browser: Browser, live: Live, request: pytest.FixtureRequest
) -> Iterator[Page]:
    """The demo page with the widget open, in a new browser context."""
    context = browser.new_context(locale="zh-CN", base_url=live.rasa)
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    try:
        page.goto("/webhooks/web/demo")
        expect(page.get_by_role("dialog")).to_be_visible()
        yield page
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{request.node.name}.png"))
        context.close()


def box(page: Page) -> Locator:
    return page.get_by_placeholder(PLACEHOLDER)


def bot(page: Page) -> Locator:
    return page.locator(".hl-msg--bot")


def user(page: Page) -> Locator:
    return page.locator(".hl-msg--user")


def ask(page: Page, text: str) -> Locator:
    """Types a message, sends it with Enter and returns the bot's next bubble."""
    before = bot(page).count()
    box(page).fill(text)
    box(page).press("Enter")
    expect(user(page).last).to_have_text(text)
    reply = bot(page).nth(before)
    expect(reply).to_be_visible()
    return reply


def sent_to_socketio(page: Page) -> List[str]:
    """Records what the page sends to socket.io (WebSocket frames, polling posts)."""
    sent: List[str] = []

    def on_socket(socket: WebSocket) -> None:
        socket.on("framesent", lambda payload: sent.append(str(payload)))

    def on_request(request: Request) -> None:
        if request.method == "POST" and "/socket.io/" in request.url:
            sent.extend((request.post_data or "").split("\x1e"))

    page.on("websocket", on_socket)
    page.on("request", on_request)
    return sent


def test_faq_question_gets_an_answer(chat: Page) -> None:
    ask(chat, "社保卡丢了怎么补办")
    expect(bot(chat).filter(has_text="社保卡").first).to_be_visible()
    expect(chat.locator(".hl-typing")).to_have_text("")


def test_button_click_sends_its_payload_and_shows_its_title(chat: Page) -> None:
    ask(chat, "我要登记诉求")  # the form first asks the type, offering buttons
    help_request = chat.get_by_role("button", name="求助", exact=True)
    choices = chat.locator(".hl-choices").filter(has=help_request)
    expect(help_request).to_be_enabled()
    before = bot(chat).count()
    help_request.click()
    expect(user(chat).last).to_have_text("求助")
    expect(bot(chat).nth(before)).to_be_visible()
    expect(choices.get_by_role("button")).to_have_count(5)
    for option in choices.get_by_role("button").all():
        expect(option).to_be_disabled()
    expect(chat.locator(".hl-log")).not_to_contain_text("choose_ticket_type")


def test_ticket_form_asks_its_next_question(chat: Page) -> None:
    reply = ask(chat, "我要投诉楼下饭店油烟扰民")
    expect(reply).to_contain_text("发生在哪里")


def test_reload_restores_history_and_session(chat: Page) -> None:
    expect(ask(chat, "我要投诉楼下饭店油烟扰民")).to_contain_text("发生在哪里")
    history = chat.locator(".hl-msg").all_inner_texts()
    chat.reload()
    expect(chat.locator(".hl-msg")).to_have_count(len(history))
    assert chat.locator(".hl-msg").all_inner_texts() == history
    # The ticket form is still waiting for the location: the session survived.
    expect(ask(chat, "幸福路12号幸福小区")).to_contain_text("什么时候发生")


def test_html_typed_by_the_user_is_shown_literally(chat: Page) -> None:
    dialogs: List[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    chat.on("dialog", on_dialog)
    markup = "<img src=x onerror=alert(1)>"
    ask(chat, markup)
    expect(user(chat).last).to_have_text(markup)
    expect(chat.locator(".hl-log img")).to_have_count(0)
    assert dialogs == []


def test_star_rating_is_sent_and_thanked(chat: Page) -> None:
    chat.get_by_role("button", name="结束并评价").click()
    five = chat.get_by_role("button", name="5 星")
    five.click()
    expect(five).to_have_attribute("aria-pressed", "true")
    expect(chat.get_by_role("button", name="4 星")).to_have_attribute(
        "aria-pressed", "false"
    )
    expect(chat.get_by_text("感谢评价！")).to_be_visible()
    expect(user(chat).last).to_have_text("评价：5 星")
    expect(bot(chat).filter(has_text="感谢您的评价").first).to_be_visible()


def test_keyboard_only_use(chat: Page) -> None:
    for _ in range(20):
        if chat.evaluate("document.activeElement.id") == "hl-input":
            break
        chat.keyboard.press("Tab")
    expect(box(chat)).to_be_focused()
    outline = box(chat).evaluate("node => getComputedStyle(node).outlineStyle")
    assert outline != "none"
    chat.keyboard.type("你好")
    chat.keyboard.press("Enter")
    expect(user(chat).last).to_have_text("你好")
    expect(bot(chat).first).to_contain_text("您好")
    chat.keyboard.press("Escape")
    expect(chat.get_by_role("dialog")).to_be_hidden()
    launcher = chat.get_by_role("button", name="在线咨询")
    expect(launcher).to_be_focused()
    chat.keyboard.press("Enter")
    expect(chat.get_by_role("dialog")).to_be_visible()
    expect(box(chat)).to_be_focused()


def test_large_font_mode_survives_reload(chat: Page) -> None:
    toggle = chat.get_by_role("button", name="大字号")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(chat.get_by_role("dialog")).to_have_class("hl-panel hl-large")
    chat.reload()
    expect(chat.get_by_role("dialog")).to_have_class("hl-panel hl-large")
    expect(toggle).to_have_attribute("aria-pressed", "true")


def test_overlong_message_is_refused_without_sending(chat: Page) -> None:
    box(chat).fill("我" * 501)
    box(chat).press("Enter")
    expect(chat.get_by_role("alert")).to_contain_text("消息请不要超过500字")
    expect(user(chat)).to_have_count(0)
    expect(box(chat)).to_have_value("我" * 501)


def test_message_typed_offline_is_sent_once_after_reconnect(chat: Page) -> None:
    sent = sent_to_socketio(chat)
    ask(chat, "你好")
    status = chat.locator(".hl-status")
    chat.evaluate(
        """() => {
            window.hlStatusSeen = [];
            const node = document.querySelector('.hl-status');
            new MutationObserver(() => window.hlStatusSeen.push(node.textContent))
                .observe(node, {childList: true, characterData: true, subtree: true});
        }"""
    )
    chat.context.set_offline(True)
    expect(status).to_have_text("连接中断，正在重新连接…")
    question = "社保卡丢了怎么补办"
    box(chat).fill(question)
    box(chat).press("Enter")
    pending = user(chat).last
    expect(pending).to_contain_text("等待发送")
    answers = bot(chat).count()
    chat.context.set_offline(False)
    expect(pending).to_have_text(question)
    expect(bot(chat).nth(answers)).to_be_visible()
    expect(bot(chat).filter(has_text="社保卡").first).to_be_visible()
    assert "已重新连接" in chat.evaluate("window.hlStatusSeen")
    assert len([packet for packet in sent if question in packet]) == 1, sent
    expect(user(chat).filter(has_text=question)).to_have_count(1)
