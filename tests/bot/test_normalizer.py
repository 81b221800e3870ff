import pytest
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalizer import TextNormalizer
from bot.text import normalize, normalize_with_offsets


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("醫保電子憑證怎麼申領", "医保电子凭证怎么申领"),
        ("ＡＢＣ１２３社保卡", "ABC123社保卡"),
        ("社保卡😀😀怎么办", "社保卡怎么办"),
        ("公积金  怎么\t提取", "公积金怎么提取"),
        ("怎么办？？？！！！", "怎么办?!"),
        ("my  name is Li", "my name is Li"),
        ("  你好  ", "你好"),
        ("交管 12123 怎么用", "交管12123怎么用"),
        ("", ""),
        ("😀🎉", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_offsets_point_back_to_the_source() -> None:
    raw = "我的電話是 １３８００１３８０００ 😀"
    text, offsets = normalize_with_offsets(raw)
    assert text == "我的电话是手机号码"  # numbers become the name of their class
    assert len(offsets) == len(text)
    assert raw[offsets[4]] == "是"
    assert raw[offsets[5]] == raw[offsets[-1]] == "１"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("身份证11010119900307123X", "身份证身份证号码"),
        ("工单20261127000123查一下", "工单工单编号查一下"),
        ("电话138 0013 8000", "电话138 0013 8000"),  # spaced digits stay as typed
        ("12345热线", "12345热线"),
    ],
)
def test_number_classes(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


def test_training_entities_follow_the_text() -> None:
    raw = "电话  １３８００１３８０００ 谢谢"
    start = raw.index("１")
    example = Message(
        data={
            "text": raw,
            "intent": "inform",
            "entities": [
                {
                    "start": start,
                    "end": start + 11,
                    "value": "13800138000",
                    "entity": "phone",
                }
            ],
        }
    )
    TextNormalizer().process_training_data(TrainingData([example]))
    entity = example.get("entities")[0]
    assert example.get("text")[entity["start"] : entity["end"]] == "手机号码"
    assert entity["value"] == "13800138000"


def test_process_normalises_incoming_messages() -> None:
    message = Message(data={"text": "臺灣通行證"})
    TextNormalizer().process([message])
    assert message.get("text") == "台湾通行证"
