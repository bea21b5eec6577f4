"""Offers by SMS link: signed, expiring, single-purpose; acceptance creates the placement and
never exceeds the posting's positions; the bureau records phone answers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import override_settings
from django.urls import reverse
from django.utils import timezone

from laborlink.errors import Conflict, NotFound
from laborlink.models import SmsMessage
from laborlink.notifications import sms_text
from matching import offers, services
from matching.models import Match
from recruitment.models import Placement

pytestmark = pytest.mark.django_db


@pytest.fixture
def run(sichuan_officer, market):
    done = services.run_execute(services.run_request(actor=sichuan_officer).pk)
    assert done.status == "done", done.error
    return done


def match_of(run, name):
    return Match.objects.select_related("posting").get(run=run, applicant__name=name)


def test_each_proposal_is_texted_once_in_chinese_with_its_link(run):
    messages = list(SmsMessage.objects.order_by("id"))
    assert len(messages) == 3
    assert all(m.purpose == "matching.offer" and "****" in m.phone_masked for m in messages)
    text = sms_text(messages[0])
    assert text.startswith("【劳务通】") and "月薪" in text and "/offer/" in text
    with connection.cursor() as cursor:
        cursor.execute("SELECT text_encrypted FROM laborlink_smsmessage LIMIT 1")
        assert "/offer/" not in cursor.fetchone()[0]  # stored encrypted
    assert services.offers_send_pending() == 0  # sending again sends nothing
    assert SmsMessage.objects.count() == 3


def test_the_phone_page_shows_the_job_and_accepting_creates_the_placement(client, run, market):
    match = match_of(run, "甲工")
    url = reverse("offer", args=[offers.offer_token(match)])
    page = client.get(url).content.decode()
    assert match.posting.title in page and "玉环康达医疗器械有限公司" in page
    response = client.post(url, {"answer": "accept"})
    assert response.status_code == 200
    match.refresh_from_db()
    assert match.status == "accepted" and match.placement.status == "accepted"
    assert match.answered_by is None
    again = client.post(url, {"answer": "decline"})
    assert again.status_code == 409
    match.refresh_from_db()
    assert match.status == "accepted"


def test_declining(client, run):
    match = match_of(run, "乙工")
    client.post(reverse("offer", args=[offers.offer_token(match)]), {"answer": "decline"})
    match.refresh_from_db()
    assert match.status == "declined" and not Placement.objects.exists()


def test_a_tampered_or_foreign_link_is_refused(client, run):
    token = offers.offer_token(match_of(run, "甲工"))
    changed = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    assert client.get(reverse("offer", args=[changed])).status_code == 404
    other = match_of(run, "乙工")
    forged = offers.offer_token(Match(pk=other.pk, offer_nonce="0" * 16))
    assert client.get(reverse("offer", args=[forged])).status_code == 404


def test_an_expired_offer_cannot_be_answered(client, run):
    match = match_of(run, "甲工")
    token = offers.offer_token(match)
    Match.objects.filter(pk=match.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.post(reverse("offer", args=[token]), {"answer": "accept"})
    assert response.status_code == 410
    assert not Placement.objects.exists()
    assert offers.offers_expire() == 1
    match.refresh_from_db()
    assert match.status == "expired"


def test_a_superseded_offer_cannot_be_answered(client, sichuan_officer, run):
    token = offers.offer_token(match_of(run, "甲工"))
    services.run_execute(services.run_request(actor=sichuan_officer).pk)
    assert client.post(reverse("offer", args=[token]), {"answer": "accept"}).status_code == 410


def test_the_signature_itself_expires(run, settings):
    token = offers.offer_token(match_of(run, "甲工"))
    settings.OFFER_VALID_HOURS = 0
    with pytest.raises(offers.OfferUnavailable) as refused:
        offers.offer_for_token(token)
    assert refused.value.code == "expired"


@pytest.mark.django_db(transaction=True)
def test_concurrent_acceptances_never_exceed_the_positions(sichuan_officer, market):
    from recruitment.models import JobPosting

    _applicants, postings = market
    run = services.run_execute(services.run_request(actor=sichuan_officer).pk)
    matches = list(Match.objects.filter(run=run))
    assert len(matches) == 3
    # all three offers now compete for the last position of one posting
    Match.objects.filter(run=run).update(posting=postings[0])
    JobPosting.objects.filter(pk=postings[0].pk).update(positions=1)
    tokens = [offers.offer_token(m) for m in matches]
    outcomes: list[str] = []
    barrier = threading.Barrier(len(tokens))

    def accept(token: str) -> None:
        from django.db import connections

        barrier.wait()
        try:
            offers.offer_accept(token)
            outcomes.append("accepted")
        except Conflict as refused:
            outcomes.append(refused.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=accept, args=(t,)) for t in tokens]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["accepted", "full", "full"]
    assert Placement.objects.filter(posting=postings[0]).count() == 1


def test_the_bureau_records_an_answer_given_by_phone(client, run, sichuan_officer, guizhou_officer):
    match = match_of(run, "丙工")
    with pytest.raises(NotFound):
        offers.offer_answer_by_phone(actor=guizhou_officer, match=match, accept=True)
    client.force_login(sichuan_officer)
    response = client.post(
        reverse("matching:answer-by-phone", args=[match.pk]), {"answer": "accept"}
    )
    assert response.status_code == 302
    match.refresh_from_db()
    assert match.status == "accepted" and match.answered_by == sichuan_officer


def test_the_employer_sees_the_accepted_candidate_on_its_posting(client, run, hr_officer):
    match = match_of(run, "甲工")
    detail = reverse("recruitment:posting-detail", args=[match.posting_id])
    client.force_login(hr_officer)
    assert "甲工" not in client.get(detail).content.decode()
    offers.offer_accept(offers.offer_token(match))
    page = client.get(detail).content.decode()
    assert "甲工" in page and match.applicant.phone_masked in page


@override_settings(SMS_BACKEND="laborlink.notifications.LogBackend")
def test_a_provider_adapter_marks_messages_sent(sichuan_officer, market):
    services.run_execute(services.run_request(actor=sichuan_officer).pk)
    assert SmsMessage.objects.filter(status="sent").count() == 3
