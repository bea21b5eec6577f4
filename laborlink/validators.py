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


class CharacterClassesValidator:
    """A password must mix at least `min_classes` of: upper-case letters, lower-case letters,
    digits and other characters (symbols, punctuation, Chinese characters)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = min_classes

    @staticmethod
    def _classes(password: str) -> int:
        return sum(
            (
                any(c.isupper() for c in password),
                any(c.islower() for c in password),
                any(c.isdigit() for c in password),
                any(not (c.isupper() or c.islower() or c.isdigit()) for c in password),
            )
        )

    def validate(self, password: str, user=None) -> None:
        if self._classes(password) < self.min_classes:
            raise ValidationError(self.get_error_message(), code="password_too_uniform")

    def get_error_message(self) -> str:
        return _(
            "This password must contain at least %(count)d of these four kinds of character: "
            "upper-case letters, lower-case letters, digits and symbols."
        ) % {"count": self.min_classes}

    def get_help_text(self) -> str:
        return self.get_error_message()
