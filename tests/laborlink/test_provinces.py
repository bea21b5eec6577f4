from collections import Counter

from laborlink.models import Province

EXPECTED_CODES = [
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82",
]  # fmt: skip


def test_all_34_divisions_are_shipped_with_their_gbt2260_codes(db):
    assert list(Province.objects.values_list("code", flat=True)) == EXPECTED_CODES


def test_names_and_kinds(db):
    by_code = {p.code: p for p in Province.objects.all()}
    assert by_code["33"].name_zh == "浙江省" and by_code["33"].name_en == "Zhejiang"
    assert by_code["51"].name_zh == "四川省" and by_code["51"].abbreviation == "川"
    assert by_code["45"].name_zh == "广西壮族自治区"
    assert by_code["81"].kind == Province.Kind.SAR
    kinds = Counter(p.kind for p in by_code.values())
    assert kinds == {
        Province.Kind.PROVINCE: 23,
        Province.Kind.AUTONOMOUS_REGION: 5,
        Province.Kind.MUNICIPALITY: 4,
        Province.Kind.SAR: 2,
    }


def test_the_table_name_is_laborlink_province():
    assert Province._meta.db_table == "laborlink_province"


def test_name_follows_the_active_language(db):
    from django.utils import translation

    zhejiang = Province.objects.get(code="33")
    with translation.override("zh-hans"):
        assert zhejiang.name == "浙江省"
    with translation.override("en"):
        assert zhejiang.name == "Zhejiang"
