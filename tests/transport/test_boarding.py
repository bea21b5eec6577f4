"""Boarding: the worker's certificate is verified at the door; a valid, fit certificate of a
worker with a seat on this trip boards, anything else is refused with the reason noted on the
booking, and the trip's departure settles who boarded, who was refused and who never came."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from health import services as health_services
from health.models import HealthCertificate, VerificationLog
from laborlink.errors import Conflict, DomainError
from recruitment.models import Placement
from tests.transport.conftest import token_of
from transport import services
from transport.models import Booking, BookingEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def boarding(zhejiang_officer, trip, accepted):
    """The three accepted workers booked on seats 1-3 and boarding started."""
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    return trip


def booking_of(placement) -> Booking:
    return Booking.objects.get(placement=placement, status__in=Booking.ACTIVE_STATUSES)


def check(actor, trip, certificate):
    return services.boarding_check(actor=actor, trip=trip, certificate=certificate)


def assert_refused(result, booking, outcome):
    booking.refresh_from_db()
    assert not result.boarded
    assert booking.status in ("booked", "waitlisted")
    assert booking.refusal_reason and booking.refusal_reason == result.message
    assert booking.check_outcome == outcome
    assert booking.checked_at is not None
    event = booking.events.get(action=BookingEvent.Action.REFUSED)
    assert event.reason == booking.refusal_reason


def tampered(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["res"] = "fit" if claims["res"] != "fit" else "not_fit"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{forged}.{signature}"


# --- Boarding ----------------------------------------------------------------------------------


def test_a_valid_token_boards_the_worker(zhejiang_officer, boarding, accepted):
    result = check(zhejiang_officer, boarding, token_of(accepted[0]))
    assert (result.boarded, result.code, result.certificate_code) == (True, "boarded", "valid")
    assert accepted[0].applicant.name in result.message
    booking = booking_of(accepted[0])
    assert booking.status == "boarded" and booking == result.booking
    assert booking.checked_by == zhejiang_officer and booking.check_outcome == "valid"
    certificate = HealthCertificate.objects.get(applicant=accepted[0].applicant)
    assert booking.certificate_number == certificate.number
    assert booking.events.filter(action="boarded").count() == 1
    accepted[0].refresh_from_db()
    assert accepted[0].status == "booked"  # departs with the trip


def test_the_certificate_number_typed_in_boards_the_worker(zhejiang_officer, boarding, accepted):
    number = HealthCertificate.objects.get(applicant=accepted[1].applicant).number
    result = check(zhejiang_officer, boarding, f"  {number.lower()} ")
    assert result.boarded and result.code == "boarded"
    assert booking_of(accepted[1]).status == "boarded"


def test_boarding_twice_is_harmless(zhejiang_officer, boarding, accepted):
    check(zhejiang_officer, boarding, token_of(accepted[0]))
    again = check(zhejiang_officer, boarding, token_of(accepted[0]))
    assert (again.boarded, again.code) == (True, "already_boarded")
    booking = booking_of(accepted[0])
    assert booking.status == "boarded"
    assert booking.events.filter(action="boarded").count() == 1


def test_every_check_is_logged_as_a_boarding_verification(zhejiang_officer, boarding, accepted):
    before = VerificationLog.objects.count()
    check(zhejiang_officer, boarding, token_of(accepted[0]))
    check(zhejiang_officer, boarding, token_of(accepted[0]))
    check(zhejiang_officer, boarding, tampered(token_of(accepted[1])))
    number = HealthCertificate.objects.get(applicant=accepted[2].applicant).number
    check(zhejiang_officer, boarding, number)
    logs = VerificationLog.objects.order_by("id")[before:]
    assert len(logs) == 4
    assert {log.channel for log in logs} == {"boarding"}
    assert {log.actor_id for log in logs} == {zhejiang_officer.pk}
    assert [log.outcome for log in logs] == ["valid", "valid", "signature_invalid", "valid"]


# --- Refusals ----------------------------------------------------------------------------------


def test_a_revoked_certificate_is_refused(zhejiang_officer, health_officer, boarding, accepted):
    certificate = HealthCertificate.objects.get(applicant=accepted[0].applicant)
    health_services.certificate_revoke(
        actor=health_officer, certificate=certificate, reason="检查结果有误"
    )
    result = check(zhejiang_officer, boarding, token_of(accepted[0]))
    assert (result.code, result.certificate_code) == ("revoked", "revoked")
    assert_refused(result, booking_of(accepted[0]), "revoked")


def test_an_expired_certificate_is_refused(zhejiang_officer, boarding, accepted):
    later = timezone.now() + timedelta(days=100)  # the certificates are valid 80 days
    with mock.patch("django.utils.timezone.now", return_value=later):
        result = check(zhejiang_officer, boarding, token_of(accepted[0]))
    assert result.code == "expired"
    assert_refused(result, booking_of(accepted[0]), "expired")


def test_a_tampered_token_is_refused_on_the_booking_it_names(zhejiang_officer, boarding, accepted):
    result = check(zhejiang_officer, boarding, tampered(token_of(accepted[0])))
    assert result.code == "signature_invalid"
    assert_refused(result, booking_of(accepted[0]), "signature_invalid")


def test_an_unreadable_token_is_refused_with_the_verifiers_reason(zhejiang_officer, boarding):
    result = check(zhejiang_officer, boarding, "abc.def.ghi")
    assert not result.boarded and result.booking is None
    assert result.code == "malformed"
    assert not Booking.objects.exclude(refusal_reason="").exists()


def test_a_worker_found_not_fit_is_refused(zhejiang_officer, health_officer, boarding, accepted):
    health_services.certificate_issue(
        actor=health_officer,
        applicant=accepted[0].applicant,
        examined_on=timezone.localdate(),
        result="not_fit",
        valid_until=timezone.localdate() + timedelta(days=30),
    )
    result = check(zhejiang_officer, boarding, token_of(accepted[0]))
    assert (result.code, result.certificate_code) == ("refused", "valid")
    assert_refused(result, booking_of(accepted[0]), "valid")


def test_a_holder_who_is_not_on_this_trip_is_refused(
    zhejiang_officer, health_officer, boarding, workers
):
    (stranger,) = workers(1)
    health_services.certificate_issue(
        actor=health_officer,
        applicant=stranger.applicant,
        examined_on=timezone.localdate(),
        result="fit",
        valid_until=timezone.localdate() + timedelta(days=30),
    )
    result = check(zhejiang_officer, boarding, token_of(stranger))
    assert (result.boarded, result.code, result.booking) == (False, "not_on_trip", None)
    number = HealthCertificate.objects.get(applicant=stranger.applicant).number
    typed = check(zhejiang_officer, boarding, number)
    assert (typed.boarded, typed.code) == (False, "not_on_trip")
    assert not BookingEvent.objects.filter(action="refused").exists()


def test_a_waitlisted_worker_cannot_board(zhejiang_officer, make_trip, accepted):
    trip = make_trip(seats=2)
    result = services.booking_create(
        actor=zhejiang_officer, trip=trip, placements=accepted, waitlist=True
    )
    (waiting,) = result.waitlisted
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    outcome = check(zhejiang_officer, trip, token_of(waiting.placement))
    assert (outcome.boarded, outcome.code, outcome.certificate_code) == (False, "refused", "valid")
    assert_refused(outcome, waiting, "valid")
    assert waiting.status == "waitlisted"

    services.trip_depart(actor=zhejiang_officer, trip=trip)
    waiting.refresh_from_db()
    assert waiting.status == "cancelled" and waiting.cancel_reason
    waiting.placement.refresh_from_db()
    assert waiting.placement.status == "accepted"  # can travel on another trip


def test_a_refused_worker_boards_with_a_new_certificate(
    zhejiang_officer, health_officer, boarding, accepted
):
    certificate = HealthCertificate.objects.get(applicant=accepted[0].applicant)
    health_services.certificate_revoke(actor=health_officer, certificate=certificate, reason="错")
    assert not check(zhejiang_officer, boarding, token_of(accepted[0])).boarded
    health_services.certificate_issue(
        actor=health_officer,
        applicant=accepted[0].applicant,
        examined_on=timezone.localdate(),
        result="fit",
        valid_until=timezone.localdate() + timedelta(days=30),
    )
    assert check(zhejiang_officer, boarding, token_of(accepted[0])).boarded
    booking = booking_of(accepted[0])
    assert (booking.status, booking.refusal_reason, booking.check_outcome) == (
        "boarded",
        "",
        "valid",
    )


def test_boarding_needs_the_trip_to_be_boarding(zhejiang_officer, trip, accepted):
    services.booking_create(actor=zhejiang_officer, trip=trip, placements=accepted)
    with pytest.raises(Conflict) as caught:
        check(zhejiang_officer, trip, token_of(accepted[0]))
    assert caught.value.code == "not_boarding"
    services.trip_start_boarding(actor=zhejiang_officer, trip=trip)
    services.trip_depart(actor=zhejiang_officer, trip=trip)
    with pytest.raises(Conflict):
        check(zhejiang_officer, trip, token_of(accepted[0]))


@pytest.mark.parametrize("text", ["", "   ", "not a certificate!", "ab"])
def test_nonsense_is_refused_before_anything_is_checked(zhejiang_officer, boarding, text):
    with pytest.raises(DomainError):
        check(zhejiang_officer, boarding, text)


# --- Departure ---------------------------------------------------------------------------------


def test_departure_settles_boarded_refused_and_no_show(
    zhejiang_officer, health_officer, boarding, accepted
):
    boarded, refused, absent = accepted
    check(zhejiang_officer, boarding, token_of(boarded))
    certificate = HealthCertificate.objects.get(applicant=refused.applicant)
    health_services.certificate_revoke(actor=health_officer, certificate=certificate, reason="错")
    check(zhejiang_officer, boarding, token_of(refused))

    services.trip_depart(actor=zhejiang_officer, trip=boarding)

    assert booking_statuses() == {
        boarded.pk: "boarded",
        refused.pk: "refused",
        absent.pk: "no_show",
    }
    statuses = dict(
        Placement.objects.filter(pk__in=[p.pk for p in accepted]).values_list("pk", "status")
    )
    assert statuses == {boarded.pk: "departed", refused.pk: "no_show", absent.pk: "no_show"}
    refused_booking = Booking.objects.get(placement=refused)
    assert refused_booking.events.filter(action="refused").count() == 2  # at the door, at leaving
    assert Booking.objects.get(placement=absent).events.filter(action="no_show").count() == 1


def booking_statuses() -> dict[int, str]:
    return dict(Booking.objects.values_list("placement_id", "status"))
