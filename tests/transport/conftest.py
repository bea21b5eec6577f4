"""Transport's cast: the matching market's three Sichuan workers, accepted on the Zhejiang
employer's two postings, and a chartered bus from Guang'an (Sichuan) to Taizhou (Zhejiang)
organised by the Zhejiang bureau."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from health.models import HealthCertificate
from health.services import certificate_token
from laborlink.models import Organization, User
from recruitment.models import Placement
from recruitment.placements import placement_created
from tests.factories import OrganizationFactory, UserFactory, make_applicant, make_posting, province
from tests.matching.conftest import market  # noqa: F401 - a fixture used here
from transport import services


def accept(applicant, posting) -> Placement:
    placement = Placement.objects.create(
        applicant=applicant, posting=posting, status=Placement.Status.ACCEPTED
    )
    placement_created(placement, actor=None)
    return placement


@pytest.fixture
def accepted(market):  # noqa: F811 - the fixture imported above
    """Three accepted placements: 甲工 and 乙工 on the first posting, 丙工 on the second."""
    applicants, postings = market
    return [
        accept(applicants[0], postings[0]),
        accept(applicants[1], postings[0]),
        accept(applicants[2], postings[1]),
    ]


def trip_values(**overrides) -> dict:
    departure = timezone.now() + timedelta(days=2)
    values = {
        "mode": "bus",
        "operator": "广安运输集团",
        "vehicle_number": "川X12345",
        "origin_province": "51",
        "origin_city": "广安市",
        "pickup_point": "广安汽车站",
        "destination_province": "33",
        "destination_city": "台州市",
        "destination_point": "玉环市人力社保局",
        "departure_at": departure,
        "arrival_expected_at": departure + timedelta(hours=26),
        "seats": 45,
        "contact_name": "王师傅",
        "contact_phone": "0826-1234567",
    }
    values.update(overrides)
    return values


@pytest.fixture
def make_trip(zhejiang_officer, agreements):
    def make(actor=None, **overrides):
        return services.trip_create(actor=actor or zhejiang_officer, **trip_values(**overrides))

    return make


@pytest.fixture
def trip(make_trip):
    return make_trip()


def token_of(placement) -> str:
    """The signed token printed on the worker's (latest) health certificate."""
    certificate = HealthCertificate.objects.filter(applicant=placement.applicant).latest("id")
    return certificate_token(certificate)


def worker_name(n: int) -> str:
    """A distinct Chinese name for the n-th worker (names hold no digits)."""
    surnames, given = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨", "一二三四五六七八九十"
    return f"{surnames[n // 10 % 16]}{given[n % 10]}{'春夏秋冬'[n // 160 % 4]}"


@pytest.fixture
def workers(market, hr_officer, sichuan_officer):  # noqa: F811 - the fixture imported above
    """More accepted workers: `workers(n)` makes n Sichuan applicants accepted on a large
    posting of the Zhejiang employer; `region`, `officer` (registering bureau) and `posting`
    change where they come from and where they go."""
    made = {"count": 0}

    def make(n, *, posting=None, region=None, officer=None):
        if posting is None:
            if "posting" not in made:
                made["posting"] = make_posting(
                    hr_officer, title="装配三线", positions=40, target_provinces=["51", "52"]
                )
            posting = made["posting"]
        placements = []
        for _i in range(n):
            made["count"] += 1
            applicant = make_applicant(
                officer or sichuan_officer, name=worker_name(made["count"]), region=region
            )
            placements.append(accept(applicant, posting))
        return placements

    return make


@pytest.fixture
def other_employer(db) -> Organization:
    return OrganizationFactory(
        name="宁波甬华电子有限公司",
        kind=Organization.Kind.EMPLOYER,
        province=province("33"),
        level=Organization.Level.CITY,
        city="宁波市",
    )


@pytest.fixture
def other_hr_officer(other_employer) -> User:
    return UserFactory(username="hr_ningbo", role=User.Role.HR_OFFICER, organization=other_employer)


@pytest.fixture
def other_accepted(other_hr_officer, workers):
    """Two Sichuan workers accepted on the other Zhejiang employer's posting."""
    posting = make_posting(other_hr_officer, title="电子装配", positions=5, target_provinces=["51"])
    return workers(2, posting=posting)


@pytest.fixture
def departed(zhejiang_officer, accepted, trip):
    """The three accepted workers booked, boarded and on their way."""
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    for placement in accepted:
        check = services.boarding_check(
            actor=zhejiang_officer, trip=trip, certificate=token_of(placement)
        )
        assert check.boarded
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    for placement in accepted:
        placement.refresh_from_db()
    trip.refresh_from_db()
    return trip
