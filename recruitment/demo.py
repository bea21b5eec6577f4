"""Recruitment demo data: urgent postings of the seed articles' employers, Sichuan and Guizhou
applicants (Guang'an's migrant workers), and a whitelist part-way through its two-key review.

Called by `manage.py load_demo_data`; idempotent. Never for production.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone

from laborlink.models import User
from recruitment import services
from recruitment.models import Applicant, JobPosting, WhitelistEntry

# title, occupation, positions, wage range, urgency, caring job, housing, start in days
YUHUAN_POSTINGS = [
    (
        "医疗器械装配工（急招）",
        "medical_device_assembler",
        120,
        (5500, 7500),
        "critical",
        False,
        True,
        14,
    ),
    ("质检员", "quality_inspector", 20, (5000, 6500), "urgent", False, True, 21),
    ("包装工（爱心岗位）", "packer", 30, (4200, 5200), "normal", True, True, 30),
]
SHENZHEN_POSTINGS = [
    ("电子装配工", "electronics_assembler", 200, (5200, 6800), "urgent", False, True, 10),
]

# name, region (county code), birth date, sequence, skills, key groups, consent
SICHUAN_APPLICANTS = [
    (
        "王德华",
        "511602",
        date(1985, 4, 12),
        311,
        ["assembler", "medical_device_assembler"],
        ["lifted_out_of_poverty"],
        True,
    ),
    ("李春梅", "511621", date(1992, 9, 3), 224, ["quality_inspector"], [], True),
    (
        "张国强",
        "511622",
        date(1979, 1, 25),
        135,
        ["welder", "machine_operator"],
        ["unemployed_40_plus"],
        True,
    ),
    ("刘晓燕", "511623", date(1996, 6, 18), 442, ["packer", "assembler"], ["relocated"], True),
    ("陈志军", "511681", date(1988, 11, 30), 517, ["electrician"], ["veteran"], True),
    ("杨丽", "510104", date(2001, 3, 8), 628, ["electronics_assembler"], ["graduate"], True),
    ("赵建平", "511602", date(1983, 7, 7), 731, ["construction"], ["lifted_out_of_poverty"], True),
    ("黄秀兰", "511621", date(1990, 2, 14), 846, ["sewing_operator", "packer"], [], False),
]
GUIZHOU_APPLICANTS = [
    ("吴永刚", "520502", date(1987, 5, 5), 151, ["assembler"], ["relocated"], True),
    ("龙小花", "522401", date(1995, 10, 10), 262, ["food_processing"], [], True),
]


def _national_id(region: str, birth: date, sequence: int) -> str:
    from stdnum.cn import ric

    body = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return body + ric.calc_check_digit(body + "0")


def _register(officer: User, rows, phone_base: int) -> list[Applicant]:
    out = []
    for offset, (name, region, birth, seq, skills, groups, consent) in enumerate(rows):
        number = _national_id(region, birth, seq)
        existing = Applicant.objects.filter(national_id_hash=services.applicant_index(number))
        if existing.exists():
            out.append(existing.get())
            continue
        out.append(
            services.applicant_register(
                actor=officer,
                name=name,
                national_id=number,
                phone=f"1{phone_base + offset:010d}",
                skills=skills,
                key_groups=groups,
                minimum_wage=4000,
                available_from=timezone.localdate(),
                consent=consent,
            )
        )
    return out


def _postings(officer: User, rows) -> int:
    today = timezone.localdate()
    created = 0
    for title, occupation, positions, (low, high), urgency, caring, housing, start in rows:
        if JobPosting.objects.filter(employer=officer.organization, title=title).exists():
            continue
        posting = services.posting_create(
            actor=officer,
            title=title,
            occupation=occupation,
            positions=positions,
            wage_min=low,
            wage_max=high,
            city=officer.organization.city,
            county=officer.organization.county,
            start_date=today + timedelta(days=start),
            deadline=today + timedelta(days=start - 3),
            urgency=urgency,
            caring_job=caring,
            housing_provided=housing,
            transport_subsidy=500,
            contact_name=officer.full_name,
        )
        services.posting_publish(actor=officer, posting=posting)
        created += 1
    return created


@transaction.atomic
def load_demo_data() -> dict[str, int]:
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["hr_yuhuan", "hr_shenzhen", "sc_bureau", "gz_bureau", "zj_bureau"]
        )
    }
    if len(users) < 5:
        return {}
    before = Applicant.objects.count()
    postings = _postings(users["hr_yuhuan"], YUHUAN_POSTINGS)
    postings += _postings(users["hr_shenzhen"], SHENZHEN_POSTINGS)
    sichuan = _register(users["sc_bureau"], SICHUAN_APPLICANTS, 3_800_001_000)
    _register(users["gz_bureau"], GUIZHOU_APPLICANTS, 3_800_002_000)

    # Sichuan approves six for Zhejiang; Zhejiang has countersigned three so far.
    entries = 0
    to_approve = [a.pk for a in sichuan[:6]]
    if not WhitelistEntry.objects.filter(applicant_id__in=to_approve).exists():
        approved = services.whitelist_approve(
            actor=users["sc_bureau"],
            applicants=to_approve,
            importing_province="33",
            expires_on=timezone.localdate() + timedelta(days=180),
            reason="2026年春风行动定向输出",
        )
        services.whitelist_countersign(
            actor=users["zj_bureau"], entries=[e.pk for e in approved[:3]]
        )
        entries = len(approved)
    return {
        "postings": postings,
        "applicants": Applicant.objects.count() - before,
        "whitelist_entries": entries,
    }
