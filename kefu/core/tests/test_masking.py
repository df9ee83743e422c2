"""Masking after the e-waybill convention: at least six phone digits, one name character, the room."""

from __future__ import annotations

import pytest

from kefu.core.masking import mask_address, mask_email, mask_name, mask_phone


def hidden_digits(masked: str) -> int:
    return masked.count("*")


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138******78"),
        ("138 1234 5678", "138******78"),
        ("+86 138 1234 5678", "861********78"),
        ("021 6888 8888", "021******88"),
        ("0755-8888888", "075******88"),
        ("6888 8888", "******88"),
        ("1234567", "******7"),
        ("95338", "*****"),
        ("110", "***"),
        ("", ""),
        ("暂无", "暂无"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    "phone", ["13812345678", "02168888888", "075588888888", "68888888", "1234567", "95338", "110"]
)
def test_mask_phone_hides_at_least_six_digits_or_all_of_a_short_number(phone):
    masked = mask_phone(phone)

    assert hidden_digits(masked) >= min(6, len(phone))
    assert len(masked) == len(phone)


@pytest.mark.parametrize(
    ("name", "masked"),
    [
        ("王小明", "王*明"),
        ("王明", "王*"),
        ("王", "*"),
        ("欧阳娜娜", "欧**娜"),
        ("  李雷  ", "李*"),
        ("John Smith", "J*** S****"),
        ("Li", "L*"),
        ("A", "A*"),
        ("", ""),
    ],
)
def test_mask_name(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize("name", ["王小明", "王明", "王", "John Smith", "A"])
def test_mask_name_hides_at_least_one_character(name):
    masked = mask_name(name)

    assert "*" in masked
    assert masked != name


@pytest.mark.parametrize(
    ("email", "masked"),
    [
        ("zhang.wei@example.cn", "z********@example.cn"),
        ("a@qq.com", "a***@qq.com"),
        ("ab@qq.com", "a***@qq.com"),
    ],
)
def test_mask_email(email, masked):
    assert mask_email(email) == masked


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("上海市浦东新区张江路88号3号楼1202室", "上海市浦东新区张江路88号3号楼****"),
        ("杭州市西湖区文三路90号2幢3单元501室", "杭州市西湖区文三路90号2幢3单元****"),
        ("广州市天河区体育西路103号维多利广场B座1501室", "广州市天河区体育西路103号维多利广场B座****"),
        ("北京市朝阳区建国路93号万达广场12栋2室", "北京市朝阳区建国路93号万达广场12栋****"),
        ("深圳市南山区科技园A座1001", "深圳市南山区科技园A座****"),
        ("成都市武侯区天府大道18号", "成都市武侯区天府大道****"),
        ("88 Zhangjiang Rd, Room 1202", "88 Zhangjiang Rd, ****"),
        ("上海市浦东新区", "上海市浦东新区"),
        ("", ""),
    ],
)
def test_mask_address_hides_the_room(address, masked):
    assert mask_address(address) == masked
