"""Validators for identifiers the platform accepts."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import uscc


def normalize_credit_code(value: str) -> str:
    """Upper-case and strip spaces and hyphens from a unified social credit code."""
    return uscc.compact(value or "")


def validate_credit_code(value: str) -> None:
    """Check a unified social credit code (GB 32100-2015): length, alphabet and check digit."""
    if not value:
        return
    try:
        uscc.validate(value)
    except uscc.InvalidLength as exc:
        raise ValidationError(
            _("A unified social credit code has 18 characters."), code="length"
        ) from exc
    except uscc.InvalidFormat as exc:
        raise ValidationError(
            _("This unified social credit code contains characters that are not allowed."),
            code="format",
        ) from exc
    except uscc.InvalidChecksum as exc:
        raise ValidationError(
            _("The check digit of this unified social credit code is wrong."), code="checksum"
        ) from exc
    except uscc.ValidationError as exc:
        raise ValidationError(
            _("This is not a valid unified social credit code."), code="invalid"
        ) from exc
