"""The whole path, service by service: accepted → booked → boarded → departed → arrived →
employed → left."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from health.models import ArrivalCheck, HealthCertificate
from health.services import certificate_token
from recruitment.models import JobPosting, Placement, PlacementEvent
from recruitment.placements import placement_report_departure, placements_start_employment
from transport import services
from transport.models import Booking

pytestmark = pytest.mark.django_db


def token_of(placement) -> str:
    certificate = HealthCertificate.objects.get(applicant=placement.applicant)
    return certificate_token(certificate)


def test_an_accepted_worker_travels_arrives_and_is_employed(
    zhejiang_officer, hr_officer, accepted, trip
):
    first, second, third = accepted
    result = services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    assert [b.seat for b in result.booked] == [1, 2, 3]
    assert set(Placement.objects.values_list("status", flat=True)) == {"booked"}

    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    check = services.boarding_check(actor=zhejiang_officer, trip=trip, certificate=token_of(first))
    assert check.boarded and check.code == "boarded"
    again = services.boarding_check(actor=zhejiang_officer, trip=trip, certificate=token_of(first))
    assert again.boarded and again.code == "already_boarded"
    number = HealthCertificate.objects.get(applicant=second.applicant).number
    assert services.boarding_check(actor=zhejiang_officer, trip=trip, certificate=number).boarded

    services.trip_depart(actor=zhejiang_officer, trip=trip)
    statuses = dict(Booking.objects.values_list("placement_id", "status"))
    assert statuses == {first.pk: "boarded", second.pk: "boarded", third.pk: "no_show"}
    third.refresh_from_db()
    assert third.status == "no_show"

    arrived = services.arrival_confirm(
        actor=hr_officer, placement=first, result="pass", request_key="k1"
    )
    assert arrived.created and arrived.placement.status == "arrived"
    twice = services.arrival_confirm(
        actor=hr_officer, placement=first, result="pass", request_key="k1"
    )
    assert not twice.created
    assert ArrivalCheck.objects.filter(placement=first).count() == 1
    posting = JobPosting.objects.get(pk=first.posting_id)
    assert posting.positions_filled == 1

    start = timezone.localdate() + timedelta(days=40)
    assert placements_start_employment(today=start) == 1
    first.refresh_from_db()
    assert first.status == "employed"
    placement_report_departure(
        actor=hr_officer, placement=first, left_on=timezone.localdate(), reason="resigned"
    )
    first.refresh_from_db()
    assert first.status == "left"
    assert JobPosting.objects.get(pk=first.posting_id).positions_filled == 0
    assert list(
        PlacementEvent.objects.filter(placement=first).values_list("to_status", flat=True)
    ) == ["accepted", "booked", "departed", "arrived", "employed", "left"]
