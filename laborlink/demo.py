"""Demo data drawn from the seed articles in shared/seeds/.

Loaded by `manage.py load_demo_data` (and by `dev.py run`). Idempotent: running it again
changes nothing. Never run in production: it creates log-ins with a known password.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from importlib import import_module

from django.apps import apps
from django.conf import settings
from django.db import transaction

from laborlink.models import CooperationAgreement, Organization, Province, User
from laborlink.services import agreement_create, api_client_create, organization_create

Kind = Organization.Kind
Level = Organization.Level
Role = User.Role

# name, kind, province, level, city, county, credit code (employers)
ORGANIZATIONS = [
    ("浙江省人力资源和社会保障厅", Kind.BUREAU, "33", Level.PROVINCE, "杭州市", "", ""),
    ("四川省人力资源和社会保障厅", Kind.BUREAU, "51", Level.PROVINCE, "成都市", "", ""),
    ("贵州省人力资源和社会保障厅", Kind.BUREAU, "52", Level.PROVINCE, "贵阳市", "", ""),
    ("广东省湛江市人力资源和社会保障局", Kind.BUREAU, "44", Level.CITY, "湛江市", "", ""),
    ("广西壮族自治区河池市人力资源和社会保障局", Kind.BUREAU, "45", Level.CITY, "河池市", "", ""),
    ("四川省广安市卫生健康委员会", Kind.HEALTH_AUTHORITY, "51", Level.CITY, "广安市", "", ""),
    ("贵州省毕节市卫生健康局", Kind.HEALTH_AUTHORITY, "52", Level.CITY, "毕节市", "", ""),
    # The medical-equipment maker in Yuhuan, Taizhou, whose HR director is quoted in the seeds.
    (
        "玉环康达医疗器械有限公司",
        Kind.EMPLOYER,
        "33",
        Level.COUNTY,
        "台州市",
        "玉环市",
        "913310837012345609",
    ),
    (
        "深圳市鹏城电子科技有限公司",
        Kind.EMPLOYER,
        "44",
        Level.CITY,
        "深圳市",
        "",
        "914403007012345600",
    ),
    ("湛江港湾食品有限公司", Kind.EMPLOYER, "44", Level.CITY, "湛江市", "", "91440800701234560R"),
    ("川渝客运集团有限公司", Kind.TRANSPORT_OPERATOR, "51", Level.PROVINCE, "成都市", "", ""),
]

# username, full name, role, organisation name
USERS = [
    ("hr_yuhuan", "谢云波", Role.HR_OFFICER, "玉环康达医疗器械有限公司"),
    ("hr_shenzhen", "林晓梅", Role.HR_OFFICER, "深圳市鹏城电子科技有限公司"),
    ("zj_bureau", "王建国", Role.BUREAU_OFFICER, "浙江省人力资源和社会保障厅"),
    ("sc_bureau", "李秀英", Role.BUREAU_OFFICER, "四川省人力资源和社会保障厅"),
    ("gz_bureau", "张明", Role.BUREAU_OFFICER, "贵州省人力资源和社会保障厅"),
    ("zhanjiang_bureau", "陈志强", Role.BUREAU_OFFICER, "广东省湛江市人力资源和社会保障局"),
    ("hechi_bureau", "韦丽华", Role.BUREAU_OFFICER, "广西壮族自治区河池市人力资源和社会保障局"),
    ("sc_health", "刘芳", Role.HEALTH_OFFICER, "四川省广安市卫生健康委员会"),
]

ADMIN_USERNAME = "admin"
API_CLIENT_ID = "sichuan-employment-system"
API_CLIENT_SECRET = "sichuan-demo-client-secret"  # noqa: S105 - demo only, printed in README


@dataclass(frozen=True)
class AgreementSeed:
    title: str
    importing: str
    exporting: str
    signed_on: date
    valid_until: date
    importing_city: str = ""
    exporting_city: str = ""
    notes: str = ""


ZJ_NOTE = "浙江已与云南、贵州、河南、四川等11省达成劳务输出协议(2020年2月)。"
SC_NOTE = "2024年“春风行动”启动仪式上四川省与八省区市签订区域就业合作协议。"

AGREEMENTS = [
    # Zhejiang's eleven labor-export agreements of February 2020 (renewed to 2027).
    *[
        AgreementSeed(
            f"浙江省—{name}劳务协作协议",
            "33",
            code,
            date(2020, 2, 10),
            date(2027, 12, 31),
            notes=ZJ_NOTE,
        )
        for code, name in [
            ("53", "云南省"),
            ("52", "贵州省"),
            ("41", "河南省"),
            ("51", "四川省"),
            ("34", "安徽省"),
            ("36", "江西省"),
            ("43", "湖南省"),
            ("42", "湖北省"),
            ("45", "广西壮族自治区"),
            ("50", "重庆市"),
            ("62", "甘肃省"),
        ]
    ],
    # Sichuan's eight regional employment-cooperation agreements of 20 February 2024.
    *[
        AgreementSeed(
            f"四川省—{name}区域就业合作协议",
            code,
            "51",
            date(2024, 2, 20),
            date(2027, 2, 19),
            notes=SC_NOTE,
        )
        for code, name in [
            ("64", "宁夏回族自治区"),
            ("54", "西藏自治区"),
            ("53", "云南省"),
            ("52", "贵州省"),
            ("35", "福建省"),
            ("33", "浙江省"),
            ("32", "江苏省"),
            ("50", "重庆市"),
        ]
    ],
    # Guangdong–Guangxi labor cooperation: Shenzhen enterprises recruiting in Hechi.
    AgreementSeed(
        "深圳市—河池市粤桂劳务协作协议",
        "44",
        "45",
        date(2020, 3, 1),
        date(2027, 12, 31),
        importing_city="深圳市",
        exporting_city="河池市",
    ),
    # Zhanjiang's online recruitment in Liuzhou (Guangxi) and Longnan (Gansu).
    AgreementSeed(
        "湛江市—柳州市劳务协作协议",
        "44",
        "45",
        date(2020, 3, 15),
        date(2027, 12, 31),
        importing_city="湛江市",
        exporting_city="柳州市",
    ),
    AgreementSeed(
        "湛江市—陇南市劳务协作协议",
        "44",
        "62",
        date(2020, 3, 15),
        date(2027, 12, 31),
        importing_city="湛江市",
        exporting_city="陇南市",
    ),
]


@transaction.atomic
def load_demo_data() -> dict[str, int]:
    """Create (or leave as they are) the demo organisations, users, agreements and API client."""
    provinces = {p.code: p for p in Province.objects.all()}
    created = {"organizations": 0, "users": 0, "agreements": 0, "api_clients": 0}

    orgs: dict[str, Organization] = {}
    for name, kind, code, level, city, county, credit_code in ORGANIZATIONS:
        org = Organization.objects.filter(kind=kind, province_id=code, name=name).first()
        if org is None:
            org = organization_create(
                actor=None,
                name=name,
                kind=kind,
                province=provinces[code],
                level=level,
                city=city,
                county=county,
                credit_code=credit_code,
            )
            created["organizations"] += 1
        orgs[name] = org

    password = settings.DEMO_PASSWORD
    for username, full_name, role, org_name in USERS:
        if not User.objects.filter(username=username).exists():
            user = User(
                username=username, full_name=full_name, role=role, organization=orgs[org_name]
            )
            user.set_password(password)
            user.save()
            created["users"] += 1
    if not User.objects.filter(username=ADMIN_USERNAME).exists():
        User.objects.create_superuser(
            username=ADMIN_USERNAME,
            password=password,
            full_name="平台管理员",
            role=Role.PLATFORM_ADMIN,
        )
        created["users"] += 1

    for seed in AGREEMENTS:
        exists = CooperationAgreement.objects.filter(
            importing_province_id=seed.importing,
            exporting_province_id=seed.exporting,
            importing_city=seed.importing_city,
            exporting_city=seed.exporting_city,
            valid_from=seed.signed_on,
        ).exists()
        if not exists:
            agreement_create(
                actor=None,
                title=seed.title,
                importing=provinces[seed.importing],
                exporting=provinces[seed.exporting],
                importing_city=seed.importing_city,
                exporting_city=seed.exporting_city,
                signed_on=seed.signed_on,
                valid_from=seed.signed_on,
                valid_until=seed.valid_until,
                status=CooperationAgreement.Status.ACTIVE,
                notes=seed.notes,
            )
            created["agreements"] += 1

    from oauth2_provider.models import get_application_model

    if not get_application_model().objects.filter(client_id=API_CLIENT_ID).exists():
        api_client_create(
            actor=None,
            bureau=orgs["四川省人力资源和社会保障厅"],
            name="四川省就业信息系统",
            client_id=API_CLIENT_ID,
            client_secret=API_CLIENT_SECRET,
        )
        created["api_clients"] += 1

    # Each app may ship its own demo data in `<app>/demo.py` (laborlink imports no app).
    for app in apps.get_app_configs():
        if app.name == "laborlink" or not app.name.isidentifier():
            continue
        try:
            module = import_module(f"{app.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{app.name}.demo":
                raise
            continue
        created.update(module.load_demo_data())
    return created


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, role, organisation) of every demo log-in, for the start-up banner."""
    rows = [(u, str(Role(r).label), o) for u, _n, r, o in USERS]
    rows.append((ADMIN_USERNAME, str(Role.PLATFORM_ADMIN.label), "—"))
    return rows
