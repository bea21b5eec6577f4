"""The 34 provincial-level divisions of GB/T 2260 (reference data, fixed by the standard)."""

from __future__ import annotations

PROVINCES = [
    # code, Chinese name, English name, abbreviation, kind
    ("11", "北京市", "Beijing", "京", "municipality"),
    ("12", "天津市", "Tianjin", "津", "municipality"),
    ("13", "河北省", "Hebei", "冀", "province"),
    ("14", "山西省", "Shanxi", "晋", "province"),
    ("15", "内蒙古自治区", "Inner Mongolia", "蒙", "autonomous_region"),
    ("21", "辽宁省", "Liaoning", "辽", "province"),
    ("22", "吉林省", "Jilin", "吉", "province"),
    ("23", "黑龙江省", "Heilongjiang", "黑", "province"),
    ("31", "上海市", "Shanghai", "沪", "municipality"),
    ("32", "江苏省", "Jiangsu", "苏", "province"),
    ("33", "浙江省", "Zhejiang", "浙", "province"),
    ("34", "安徽省", "Anhui", "皖", "province"),
    ("35", "福建省", "Fujian", "闽", "province"),
    ("36", "江西省", "Jiangxi", "赣", "province"),
    ("37", "山东省", "Shandong", "鲁", "province"),
    ("41", "河南省", "Henan", "豫", "province"),
    ("42", "湖北省", "Hubei", "鄂", "province"),
    ("43", "湖南省", "Hunan", "湘", "province"),
    ("44", "广东省", "Guangdong", "粤", "province"),
    ("45", "广西壮族自治区", "Guangxi", "桂", "autonomous_region"),
    ("46", "海南省", "Hainan", "琼", "province"),
    ("50", "重庆市", "Chongqing", "渝", "municipality"),
    ("51", "四川省", "Sichuan", "川", "province"),
    ("52", "贵州省", "Guizhou", "黔", "province"),
    ("53", "云南省", "Yunnan", "滇", "province"),
    ("54", "西藏自治区", "Tibet", "藏", "autonomous_region"),
    ("61", "陕西省", "Shaanxi", "陕", "province"),
    ("62", "甘肃省", "Gansu", "甘", "province"),
    ("63", "青海省", "Qinghai", "青", "province"),
    ("64", "宁夏回族自治区", "Ningxia", "宁", "autonomous_region"),
    ("65", "新疆维吾尔自治区", "Xinjiang", "新", "autonomous_region"),
    ("71", "台湾省", "Taiwan", "台", "province"),
    ("81", "香港特别行政区", "Hong Kong", "港", "sar"),
    ("82", "澳门特别行政区", "Macao", "澳", "sar"),
]

PROVINCE_CODES = frozenset(code for code, *_ in PROVINCES)
