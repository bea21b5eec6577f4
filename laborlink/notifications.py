"""SMS notifications through a pluggable backend.

`send_sms(phone=…, text=…, purpose=…)` always records the message in the outbox
(`SmsMessage`, phone and text encrypted) and hands it to the backend named by the
`SMS_BACKEND` setting:

- `laborlink.notifications.OutboxBackend` (default): keeps the message in the outbox and logs
  that it was queued (masked number, never the text): a clerk or a gateway job sends it;
- a provider adapter: a class with `send(phone: str, text: str) -> str` returning the
  provider's message id and raising `SmsDeliveryError` on failure — e.g. a thin wrapper
  around a commercial SMS gateway's HTTP API. `LogBackend` is the smallest example.
"""

from __future__ import annotations

import logging
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from laborlink import personal_data
from laborlink.models import SmsMessage

logger = logging.getLogger(__name__)

PHONE_CONTEXT = "sms.phone"
TEXT_CONTEXT = "sms.text"


class SmsDeliveryError(Exception):
    """The gateway refused or failed to take the message."""


class SmsBackend(Protocol):
    def send(self, phone: str, text: str) -> str:
        """Deliver one message; return the provider's message id."""


class OutboxBackend:
    """Keep messages in the outbox only (development, and sites without a gateway)."""

    queues_only = True

    def send(self, phone: str, text: str) -> str:
        return ""


class LogBackend:
    """An adapter example: 'sends' by logging the masked number and the text's length."""

    def send(self, phone: str, text: str) -> str:
        logger.info("SMS to %s (%d characters)", personal_data.mask_phone(phone), len(text))
        return f"log-{timezone.now():%Y%m%d%H%M%S%f}"


def _backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


def send_sms(*, phone: str, text: str, purpose: str) -> SmsMessage:
    """Record an SMS in the outbox and hand it to the configured backend."""
    backend = _backend()
    message = SmsMessage.objects.create(
        purpose=purpose,
        phone_encrypted=personal_data.encrypt(phone, context=PHONE_CONTEXT),
        phone_masked=personal_data.mask_phone(phone),
        text_encrypted=personal_data.encrypt(text, context=TEXT_CONTEXT),
        backend=settings.SMS_BACKEND,
    )
    if getattr(backend, "queues_only", False):
        logger.info(
            "SMS %s to %s queued in the outbox (%s)", message.pk, message.phone_masked, purpose
        )
        return message
    try:
        provider_id = backend.send(phone, text)
    except SmsDeliveryError as exc:
        SmsMessage.objects.filter(pk=message.pk).update(
            status=SmsMessage.Status.FAILED, error=str(exc)[:300]
        )
        logger.warning("SMS %s to %s failed", message.pk, message.phone_masked)
        return message
    SmsMessage.objects.filter(pk=message.pk).update(
        status=SmsMessage.Status.SENT, provider_message_id=provider_id, sent_at=timezone.now()
    )
    return message


def sms_text(message: SmsMessage) -> str:
    return personal_data.decrypt(message.text_encrypted, context=TEXT_CONTEXT)
