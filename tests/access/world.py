"""Two of everything, for the access sweep.

Side A is the usual cast: Zhejiang imports from Sichuan. Side B mirrors it in other
provinces: Jiangsu imports from Guizhou. No agreement links the two sides, so nothing of one
side is visible to anyone of the other (matching runs, which hold no personal data, are
shared by every bureau). Each side has an employer and its HR officer, an exporting and an
importing bureau, a health authority, an API client of each bureau, applicants with
certificates and countersigned whitelist entries, postings, matches, placements, two trips
with bookings, an arrival check, a flag and an import batch.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pghistory
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from health import services as health_services
from health.models import HealthCertificate, IssuingKey
from laborlink.models import CooperationAgreement, Organization, User
from laborlink.personal_data import mask_national_id, mask_phone
from laborlink.services import api_client_create
from matching import services as matching_services
from matching.models import Match, MatchRun
from matching.offers import offer_token
from recruitment import imports
from recruitment.models import Applicant, Flag, ImportBatch, JobPosting, Placement, WhitelistEntry
from recruitment.placements import placement_created
from recruitment.services import whitelist_approve, whitelist_countersign
from tests.api.test_api_client import _token
from tests.factories import (
    AgreementFactory,
    OrganizationFactory,
    UserFactory,
    make_applicant,
    make_posting,
    national_id_for,
    province,
)
from tests.recruitment.import_files import csv_bytes, row, upload
from transport import services as transport_services
from transport.models import Booking, Trip

ROLES = (
    "hr_officer",
    "exporting_officer",
    "importing_officer",
    "health_officer",
    "platformless",
    "anonymous",
    "exporting_api_client",
    "importing_api_client",
)


@dataclass(frozen=True)
class SideSpec:
    key: str
    importing: str  # province code
    exporting: str
    region: str  # the exporting province's county of the applicants' ID numbers
    importing_city: str
    exporting_city: str
    employer: str
    importing_bureau: str
    exporting_bureau: str
    health_authority: str
    applicants: tuple[str, str, str]
    postings: tuple[str, str]
    phone_prefix: str
    vehicles: tuple[str, str]
    pickup: str
    credit_region: str


SPECS = {
    "A": SideSpec(
        key="A",
        importing="33",
        exporting="51",
        region="511602",
        importing_city="台州市",
        exporting_city="广安市",
        employer="玉环甲方医疗器械有限公司",
        importing_bureau="浙江省人社厅甲方",
        exporting_bureau="四川省人社厅甲方",
        health_authority="广安市卫健委甲方",
        applicants=("川籍赵一", "川籍钱二", "川籍孙三"),
        postings=("浙江装配甲线", "浙江装配乙线"),
        phone_prefix="137",
        vehicles=("川X10001", "川X10002"),
        pickup="广安汽车站甲方",
        credit_region="331021",
    ),
    "B": SideSpec(
        key="B",
        importing="32",
        exporting="52",
        region="520102",
        importing_city="苏州市",
        exporting_city="毕节市",
        employer="苏州乙方精密电子有限公司",
        importing_bureau="江苏省人社厅乙方",
        exporting_bureau="贵州省人社厅乙方",
        health_authority="毕节市卫健委乙方",
        applicants=("黔籍周四", "黔籍吴五", "黔籍郑六"),
        postings=("江苏焊接丙线", "江苏焊接丁线"),
        phone_prefix="159",
        vehicles=("贵F20001", "贵F20002"),
        pickup="毕节客运站乙方",
        credit_region="320506",
    ),
}


@dataclass
class Side:
    spec: SideSpec
    users: dict[str, User | None] = field(default_factory=dict)
    api_tokens: dict[str, str] = field(default_factory=dict)
    orgs: dict[str, Organization] = field(default_factory=dict)
    agreement: CooperationAgreement | None = None
    applicants: list[Applicant] = field(default_factory=list)
    national_ids: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    entries: list[WhitelistEntry] = field(default_factory=list)
    certificates: list[HealthCertificate] = field(default_factory=list)
    key: IssuingKey | None = None
    postings: list[JobPosting] = field(default_factory=list)
    matches: list[Match] = field(default_factory=list)
    placements: list[Placement] = field(default_factory=list)
    trips: list[Trip] = field(default_factory=list)
    bookings: list[Booking] = field(default_factory=list)
    flag: Flag | None = None
    batch: ImportBatch | None = None

    def ids(self, kind: str) -> Any:
        """The id (or kid, code, token) of this side's object of `kind`, for a URL."""
        return {
            "agreement": lambda: self.agreement.pk,
            "applicant": lambda: self.applicants[0].pk,
            "whitelist_entry": lambda: self.entries[0].pk,
            "certificate": lambda: self.certificates[0].pk,
            "issuing_key": lambda: self.key.kid,
            "posting": lambda: self.postings[0].pk,
            "match": lambda: self.matches[0].pk,
            "placement": lambda: self.placements[0].pk,
            "unconfirmed_placement": lambda: self.placements[1].pk,
            "trip": lambda: self.trips[0].pk,
            "scheduled_trip": lambda: self.trips[1].pk,
            "booking": lambda: self.bookings[-1].pk,
            "flag": lambda: self.flag.pk,
            "import_batch": lambda: self.batch.pk,
            "province": lambda: self.spec.exporting,
            "offer_token": lambda: offer_token(self.matches[0]),
        }[kind]()

    def markers(self) -> list[str]:
        """Strings that identify this side's objects: none may reach the other side."""
        s = self.spec
        values = [
            s.employer,
            s.importing_bureau,
            s.exporting_bureau,
            s.health_authority,
            *s.applicants,
            *s.postings,
            *s.vehicles,
            s.pickup,
            self.agreement.title,
            self.batch.file_name,
            self.key.kid,
            *(mask_national_id(n) for n in self.national_ids),
            *(mask_phone(p) for p in self.phones),
            *self.national_ids,
            *self.phones,
            *(c.number for c in self.certificates),
        ]
        return [v for v in values if v]


def _accept(applicant: Applicant, posting: JobPosting) -> Placement:
    placement = Placement.objects.create(
        applicant=applicant, posting=posting, status=Placement.Status.ACCEPTED
    )
    placement_created(placement, actor=None)
    return placement


def _trip_values(spec: SideSpec, vehicle: str, days: int) -> dict[str, Any]:
    departure = timezone.now() + timedelta(days=days)
    return {
        "mode": "bus",
        "operator": f"{spec.exporting_city}运输集团",
        "vehicle_number": vehicle,
        "origin_province": spec.exporting,
        "origin_city": spec.exporting_city,
        "pickup_point": spec.pickup,
        "destination_province": spec.importing,
        "destination_city": spec.importing_city,
        "destination_point": f"{spec.importing_city}人力社保局",
        "departure_at": departure,
        "arrival_expected_at": departure + timedelta(hours=26),
        "seats": 45,
        "contact_name": "王师傅",
        "contact_phone": "0826-1234567",
    }


def build_side(spec: SideSpec, serial: int) -> Side:
    from tests.factories import credit_code_for

    side = Side(spec=spec)
    today = timezone.localdate()
    imp, exp = province(spec.importing), province(spec.exporting)
    orgs = side.orgs
    orgs["employer"] = OrganizationFactory(
        name=spec.employer,
        kind=Organization.Kind.EMPLOYER,
        province=imp,
        level=Organization.Level.COUNTY,
        city=spec.importing_city,
        credit_code=credit_code_for(spec.credit_region, 800000000 + serial),
    )
    orgs["importing_bureau"] = OrganizationFactory(name=spec.importing_bureau, province=imp)
    orgs["exporting_bureau"] = OrganizationFactory(name=spec.exporting_bureau, province=exp)
    orgs["health_authority"] = OrganizationFactory(
        name=spec.health_authority,
        kind=Organization.Kind.HEALTH_AUTHORITY,
        province=exp,
        level=Organization.Level.CITY,
        city=spec.exporting_city,
    )
    Role = User.Role
    u = side.users
    u["hr_officer"] = UserFactory(role=Role.HR_OFFICER, organization=orgs["employer"])
    u["importing_officer"] = UserFactory(organization=orgs["importing_bureau"])
    u["exporting_officer"] = UserFactory(organization=orgs["exporting_bureau"])
    u["health_officer"] = UserFactory(
        role=Role.HEALTH_OFFICER, organization=orgs["health_authority"]
    )
    u["platformless"] = UserFactory(organization=None, role="")
    u["anonymous"] = None
    for role, bureau in (("exporting", "exporting_bureau"), ("importing", "importing_bureau")):
        secret = f"access-sweep-client-secret-{spec.key}-{role}-0123456789abcdef"
        machine, application, _secret = api_client_create(
            actor=None, bureau=orgs[bureau], name=f"{spec.key}{role}系统", client_secret=secret
        )
        u[f"{role}_api_client"] = machine
        side.api_tokens[f"{role}_api_client"] = _token(application.client_id, secret)

    side.agreement = AgreementFactory(
        title=f"{imp.name_zh}{exp.name_zh}劳务协作协议{spec.key}",
        importing_province=imp,
        exporting_province=exp,
    )

    officer = u["exporting_officer"]
    for n, name in enumerate(spec.applicants):
        number = national_id_for(spec.region, date(1990, 1, 1) + timedelta(days=n), 100 + n)
        phone = f"{spec.phone_prefix}{serial}{n:07d}"
        side.national_ids.append(number)
        side.phones.append(phone)
        side.applicants.append(
            make_applicant(
                officer,
                name=name,
                national_id=number,
                phone=phone,
                region=spec.region,
                skills=["medical_device_assembler"],
            )
        )
    side.entries = whitelist_approve(
        actor=officer,
        applicants=[a.pk for a in side.applicants],
        importing_province=spec.importing,
        expires_on=today + timedelta(days=120),
    )
    whitelist_countersign(actor=u["importing_officer"], entries=[e.pk for e in side.entries])
    for applicant in side.applicants:
        side.certificates.append(
            health_services.certificate_issue(
                actor=u["health_officer"],
                applicant=applicant,
                examined_on=today,
                result="fit",
                valid_until=today + timedelta(days=80),
            )
        )
    side.key = IssuingKey.objects.get(authority=orgs["health_authority"])
    side.postings = [
        make_posting(
            u["hr_officer"],
            title=title,
            positions=3,
            city=spec.importing_city,
            target_provinces=[spec.exporting],
        )
        for title in spec.postings
    ]
    batch_rows = [row(national_id=national_id_for(spec.region, serial=900 + serial))]
    side.batch = imports.import_check(
        actor=officer, upload=upload(csv_bytes(batch_rows), name=f"registry-{spec.key}.csv")
    )
    return side


def build_placements_and_trips(side: Side) -> None:
    spec, u = side.spec, side.users
    side.placements = [
        _accept(side.applicants[0], side.postings[0]),
        _accept(side.applicants[1], side.postings[0]),
        _accept(side.applicants[2], side.postings[1]),
    ]
    organiser = u["importing_officer"]
    travelled = transport_services.trip_create(
        actor=organiser, **_trip_values(spec, spec.vehicles[0], days=2)
    )
    result = transport_services.booking_create(
        actor=organiser, trip=travelled, placements=side.placements[:2]
    )
    side.bookings.extend(result.booked)
    transport_services.trip_start_boarding(actor=organiser, trip=travelled)
    for cert in side.certificates[:2]:
        check = transport_services.boarding_check(
            actor=organiser, trip=travelled, certificate=health_services.certificate_token(cert)
        )
        assert check.boarded
    transport_services.trip_depart(actor=organiser, trip=travelled)
    transport_services.trip_arrive(actor=organiser, trip=travelled)
    transport_services.arrival_confirm(
        actor=u["hr_officer"],
        placement=side.placements[0],
        result="pass",
        request_key=uuid.uuid4().hex,
    )
    scheduled = transport_services.trip_create(
        actor=organiser, **_trip_values(spec, spec.vehicles[1], days=5)
    )
    result = transport_services.booking_create(
        actor=organiser, trip=scheduled, placements=side.placements[2:]
    )
    side.bookings.extend(result.booked)
    side.trips = [travelled, scheduled]
    side.flag = Flag.objects.create(
        kind=Flag.Kind.ABSENT,
        placement=side.placements[1],
        importing_province_id=spec.importing,
        exporting_province_id=spec.exporting,
    )
    for obj in (*side.placements, *side.trips):
        obj.refresh_from_db()


@dataclass
class World:
    sides: dict[str, Side]
    run: MatchRun

    def other(self, key: str) -> Side:
        return self.sides["B" if key == "A" else "A"]


def build_world() -> World:
    """The whole world is written in one transaction: PostgreSQL keeps the audit context
    (who acts) until the transaction ends, so each side is built in a context of its own,
    lest the history attribute one side's rows to the other side's officers."""
    sides = {}
    for serial, (key, spec) in enumerate(SPECS.items()):
        with pghistory.context(world_side=key):
            sides[key] = build_side(spec, serial)
    with pghistory.context(task="matching.run"):
        run = matching_services.run_request(actor=sides["A"].users["exporting_officer"])
        run = matching_services.run_execute(run.pk)
    assert run is not None and run.status == MatchRun.Status.DONE, run
    for side in sides.values():
        side.matches = list(
            Match.objects.filter(run=run, applicant__in=side.applicants).order_by("pk")
        )
        assert side.matches, f"no matches on side {side.spec.key}"
        with pghistory.context(user=side.users["importing_officer"].pk):
            build_placements_and_trips(side)
    return World(sides=sides, run=run)


def client_for(side: Side, role: str) -> Client:
    """A page client logged in as `role` of `side` (anonymous, or an API client's bearer
    token that pages do not accept)."""
    client = Client()
    user = side.users[role]
    if role.endswith("api_client"):
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {side.api_tokens[role]}"
    elif user is not None:
        client.force_login(user)
    return client


def api_for(side: Side, role: str) -> APIClient:
    api = APIClient()
    user = side.users[role]
    if role.endswith("api_client"):
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {side.api_tokens[role]}")
    elif user is not None:
        api.force_login(user)
    return api
