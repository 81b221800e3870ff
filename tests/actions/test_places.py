"""Locations from the profile's gazetteer and free addresses."""

import pytest

from actions.places import find_address, find_location


@pytest.mark.parametrize(
    "text, location",
    [
        ("示例一区东城街道幸福路12号门口天天有人烧烤", "示例一区东城街道幸福路12号"),
        ("东城街道那边路灯不亮", "东城街道"),
        ("示例一区的东城街道幸福路积水", "示例一区东城街道幸福路"),
        ("我家住在春晖家园3栋2单元，楼上漏水", "春晖家园3栋2单元"),
        ("建设大道和平安路交叉口的红绿灯坏了", "建设大道"),
        ("西城街道红枫小区门口垃圾没人清", "西城街道红枫小区"),
        ("临江镇上河村的桥塌了一半", "临江镇上河村"),
        ("单位拖欠我三个月工资", None),
        ("我想问问公租房怎么申请", None),
    ],
)
def test_find_location(text: str, location: str | None) -> None:
    assert find_location(text) == location


def test_a_free_address_is_cut_at_the_sentence_around_it() -> None:
    assert find_address("我在锦华小区买的房子一直不给办证") == "锦华小区"
    assert find_address("路灯坏了") is None  # a suffix alone names no place
