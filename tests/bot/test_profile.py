from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from structlog.testing import capture_logs

from bot import profile
from bot.nlg import ProfileNaturalLanguageGenerator
from bot.speech import digits_to_speech

PROFILE = {
    "city": "测试市",
    "hotline": "12345",
    "service_hall": "测试市政务服务中心",
    "service_address": "测试路8号",
    "service_hours": "工作日上午九点至下午五点",
    "gov_website": "https://zwfw.test.gov.cn",
    "gov_app": "测试通",
    "manual_dispatch_queue": "人工分拨",
    "ivr_transfer_target": "测试坐席",
}


@pytest.fixture
def test_profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "profile.yml"
    path.write_text(yaml.safe_dump(PROFILE, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_PROFILE", str(path))
    return path


def test_fill_uses_the_profile_named_by_env(test_profile: Path) -> None:
    assert profile.fill("请拨打{hotline}，或登录{gov_website}") == (
        "请拨打12345，或登录https://zwfw.test.gov.cn"
    )


def test_fill_leaves_unknown_braces_alone(test_profile: Path) -> None:
    assert profile.fill("{city}的{unknown}") == "测试市的{unknown}"


def test_voice_channel_reads_the_hotline_digit_by_digit(test_profile: Path) -> None:
    assert profile.fill("请拨打{hotline}", "ivr") == "请拨打幺二三四五"


def test_missing_entries_are_reported(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("city: 测试市\n", encoding="utf-8")
    monkeypatch.setenv("HOTLINE_PROFILE", str(path))
    with pytest.raises(profile.ProfileError, match="hotline.*ivr_transfer_target"):
        profile.load_profile()


def test_shipped_example_profile_is_complete(monkeypatch) -> None:
    monkeypatch.delenv("HOTLINE_PROFILE", raising=False)
    values = profile.placeholder_values()
    assert set(values) == set(profile.PLACEHOLDERS)
    assert all(values.values())


def test_digits_to_speech() -> None:
    assert digits_to_speech("12333") == "幺二三三三"
    assert digits_to_speech("110") == "幺幺零"


async def test_nlg_fills_profile_and_picks_the_channel_variant(test_profile) -> None:
    domain = Domain.from_dict(
        {
            "responses": {
                "utter_call": [
                    {"text": "请拨打{hotline}咨询{city}的政策"},
                    {"channel": "ivr", "text": "请拨打{hotline}"},
                ]
            }
        }
    )
    nlg = ProfileNaturalLanguageGenerator(None, domain)
    tracker = DialogueStateTracker("citizen", domain.slots)
    web = await nlg.generate("utter_call", tracker, "socketio")
    voice = await nlg.generate("utter_call", tracker, "ivr")
    assert web["text"] == "请拨打12345咨询测试市的政策"
    assert voice["text"] == "请拨打幺二三四五"


async def test_ticket_type_buttons_carry_their_payloads_without_errors(
    test_profile,
) -> None:
    domain = Domain.load(str(Path(__file__).parents[2] / "bot" / "domain"))
    nlg = ProfileNaturalLanguageGenerator(None, domain)
    tracker = DialogueStateTracker("citizen", domain.slots)
    with capture_logs() as logged:
        response = await nlg.generate("utter_ask_ticket_type", tracker, "socketio")
    assert [button["payload"] for button in response["buttons"]] == [
        f'/choose_ticket_type{{"ticket_type":"{kind}"}}'
        for kind in ("complaint", "help_request", "report", "suggestion", "inquiry")
    ]
    assert [event for event in logged if event["log_level"] == "error"] == []
