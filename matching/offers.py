"""Offers: each proposed match is sent to the applicant by SMS with a personal link.

The link carries a token signed with the project's secret (django.core.signing), naming the
match and a random nonce stored on it: single-purpose (only that match, only answering it),
expiring (OFFER_VALID_HOURS, never after the posting's deadline), and dead once answered or
superseded. Acceptance creates the placement and counts against the posting's positions: the
posting row is locked and its active placements counted, so concurrent acceptances never
exceed the positions.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, time, timedelta

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from laborlink import personal_data
from laborlink.access import require_role
from laborlink.errors import Conflict, DomainError, NotFound
from laborlink.models import SmsMessage, User
from matching.models import Match, MatchRun

logger = logging.getLogger(__name__)

SALT = "matching.offer"
SMS_PURPOSE = "matching.offer"


class OfferUnavailable(DomainError):
    """The link cannot be used: tampered, expired, answered or superseded."""


def offer_token(match: Match) -> str:
    return signing.TimestampSigner(salt=SALT).sign_object({"m": match.pk, "n": match.offer_nonce})


def offer_url(match: Match) -> str:
    return settings.SITE_URL + reverse("offer", args=[offer_token(match)])


def _expiry(match: Match, now: datetime) -> datetime:
    deadline_end = timezone.make_aware(
        datetime.combine(match.posting.deadline + timedelta(days=1), time.min)
    )
    return min(now + timedelta(hours=settings.OFFER_VALID_HOURS), deadline_end)


def _sms_text(match: Match, url: str) -> str:
    posting = match.posting
    with override("zh-hans"):
        housing = "，提供住宿" if posting.housing_provided else ""
        transport = f"，路费补贴{posting.transport_subsidy}元" if posting.transport_subsidy else ""
        return (
            f"【劳务通】{match.applicant.name}您好：{posting.employer.name}（{posting.city}）"
            f"招聘{posting.title}，月薪{posting.wage_min}-{posting.wage_max}元，"
            f"{posting.start_date:%m月%d日}到岗{housing}{transport}。"
            f"查看并答复：{url} （{timezone.localtime(match.expires_at):%m月%d日%H:%M}前有效）"
        )


def offers_send(run: MatchRun) -> int:
    """Send the run's proposals that have not been offered yet (safe to call twice)."""
    from laborlink.notifications import PHONE_CONTEXT, TEXT_CONTEXT, send_sms

    pending = (
        Match.objects.filter(run=run, status=Match.Status.PROPOSED, offered_at__isnull=True)
        .select_related("applicant", "posting", "posting__employer")
        .order_by("id")
    )
    queued_only = settings.SMS_BACKEND == "laborlink.notifications.OutboxBackend"
    sent = 0
    while chunk := list(pending[:2000]):
        now = timezone.now()
        outbox = []
        with transaction.atomic():
            for match in chunk:
                match.offer_nonce = secrets.token_hex(8)
                match.offered_at = now
                match.expires_at = _expiry(match, now)
                match.updated_at = now
                phone = personal_data.decrypt(
                    match.applicant.phone_encrypted, context="applicant.phone"
                )
                text = _sms_text(match, offer_url(match))
                if queued_only:
                    outbox.append(
                        SmsMessage(
                            purpose=SMS_PURPOSE,
                            phone_encrypted=personal_data.encrypt(phone, context=PHONE_CONTEXT),
                            phone_masked=match.applicant.phone_masked,
                            text_encrypted=personal_data.encrypt(text, context=TEXT_CONTEXT),
                            backend=settings.SMS_BACKEND,
                        )
                    )
                else:
                    send_sms(phone=phone, text=text, purpose=SMS_PURPOSE)
            _record_offers(chunk)
            SmsMessage.objects.bulk_create(outbox, batch_size=2000)
        sent += len(chunk)
    logger.info("matching run %s: %d offers sent", run.pk, sent)
    return sent


def _record_offers(chunk: list[Match]) -> None:
    """Store the chunk's nonces and times in one statement (COPY into a temporary table,
    then one UPDATE … FROM): `bulk_update`'s CASE expressions were the slow part."""
    with connection.cursor() as cursor:
        # (IF NOT EXISTS + TRUNCATE: the caller's transaction may hold several chunks)
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS offer_chunk (id bigint PRIMARY KEY, "
            "nonce text, offered timestamptz, expires timestamptz) ON COMMIT DROP"
        )
        cursor.execute("TRUNCATE offer_chunk")
        with cursor.cursor.copy(
            "COPY offer_chunk (id, nonce, offered, expires) FROM STDIN"
        ) as copy:
            for match in chunk:
                copy.write_row((match.pk, match.offer_nonce, match.offered_at, match.expires_at))
        cursor.execute(
            "UPDATE matching_match AS m SET offer_nonce = c.nonce, offered_at = c.offered, "
            "expires_at = c.expires, updated_at = c.offered FROM offer_chunk AS c WHERE m.id = c.id"
        )


def offer_for_token(token: str) -> Match:
    """The match a link names, if the link may still be used (else OfferUnavailable)."""
    try:
        data = signing.TimestampSigner(salt=SALT).unsign_object(
            token, max_age=timedelta(hours=settings.OFFER_VALID_HOURS)
        )
    except signing.SignatureExpired as exc:
        raise OfferUnavailable(_("This offer has expired."), code="expired", status=410) from exc
    except signing.BadSignature as exc:
        raise OfferUnavailable(
            _("This link is not valid."), code="invalid_link", status=404
        ) from exc
    match = (
        Match.objects.select_related("posting", "posting__employer", "applicant", "run")
        .filter(pk=data.get("m"), offer_nonce=data.get("n"))
        .exclude(offer_nonce="")
        .first()
    )
    if match is None:
        raise OfferUnavailable(_("This link is not valid."), code="invalid_link", status=404)
    return match


def offer_check_open(match: Match) -> None:
    """Raise OfferUnavailable when the offer can no longer be answered."""
    if match.status == Match.Status.ACCEPTED:
        raise OfferUnavailable(
            _("You have already accepted this offer."), code="answered", status=409
        )
    if match.status == Match.Status.DECLINED:
        raise OfferUnavailable(
            _("You have already declined this offer."), code="answered", status=409
        )
    if match.status in (Match.Status.SUPERSEDED, Match.Status.EXPIRED) or (
        match.expires_at is not None and match.expires_at <= timezone.now()
    ):
        raise OfferUnavailable(_("This offer has expired."), code="expired", status=410)


@transaction.atomic
def _answer(match_id: int, *, accept: bool, actor: User | None) -> Match:
    from recruitment.models import JobPosting, Placement
    from recruitment.placements import placement_created

    match = Match.objects.select_for_update().select_related("posting").get(pk=match_id)
    offer_check_open(match)
    now = timezone.now()
    if accept:
        # Lock the posting, then count its active placements: concurrent acceptances of the
        # last position queue here and only the first gets it.
        posting = JobPosting.objects.select_for_update().get(pk=match.posting_id)
        taken = Placement.objects.filter(
            posting=posting, status__in=Placement.HOLDING_POSITION_STATUSES
        ).count()
        if taken >= posting.positions or posting.status != JobPosting.Status.OPEN:
            match.status = Match.Status.EXPIRED
            match.updated_at = now
            match.save(update_fields=["status", "updated_at"])
            raise Conflict(_("Sorry, all positions of this job have just been taken."), code="full")
        try:
            with transaction.atomic():
                placement = Placement.objects.create(
                    applicant_id=match.applicant_id, posting=posting, status="accepted"
                )
                placement_created(placement, actor=actor)
        except IntegrityError as exc:  # the applicant holds another active placement
            raise Conflict(
                _("You have already accepted another job."), code="already_placed"
            ) from exc
        match.placement = placement
        match.status = Match.Status.ACCEPTED
    else:
        match.status = Match.Status.DECLINED
    match.answered_at = now
    match.answered_by = actor
    match.updated_at = now
    match.save(update_fields=["status", "answered_at", "answered_by", "placement", "updated_at"])
    return match


def offer_accept(token: str) -> Match:
    match = offer_for_token(token)
    return _answer(match.pk, accept=True, actor=None)


def offer_decline(token: str) -> Match:
    match = offer_for_token(token)
    return _answer(match.pk, accept=False, actor=None)


def offer_answer_by_phone(*, actor: User, match: Match | int, accept: bool) -> Match:
    """The exporting bureau records an answer the applicant gave by phone."""
    from recruitment.selectors import applicants_registered_by

    require_role(actor, [User.Role.BUREAU_OFFICER])
    pk = match.pk if isinstance(match, Match) else match
    found = Match.objects.filter(
        pk=pk, applicant__in=applicants_registered_by(actor).values("pk")
    ).first()
    if found is None:
        raise NotFound()
    return _answer(found.pk, accept=accept, actor=actor)


def offers_expire() -> int:
    """Proposals not answered in time expire (hourly, Celery beat)."""
    return Match.objects.filter(
        status=Match.Status.PROPOSED, expires_at__lte=timezone.now()
    ).update(status=Match.Status.EXPIRED, updated_at=timezone.now())
