"""Forms of the health pages. They check types; the rules (validity bounds, who may issue or
revoke) live in health.services. The verification form also reads the QR code of an uploaded
picture, refusing anything that is not a reasonably sized image."""

from __future__ import annotations

import warnings
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from health.models import HealthCertificate
from health.services import MAX_NOTES_LENGTH, MAX_VALIDITY_DAYS
from laborlink.i18n import format_lazy_percent

MAX_TOKEN_LENGTH = 8000  # a token is ~500 characters; tokens.verify refuses above 4096
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_IMAGE_PIXELS = 40_000_000  # a 40-megapixel phone photo; decoded, ~120 MB of RGB
IMAGE_FORMATS = {"PNG", "JPEG", "GIF", "WEBP", "BMP"}

DATE_WIDGET = {"type": "date"}


class ApplicantFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=50)

    def apply(self, queryset):
        if self.is_valid() and self.cleaned_data["q"].strip():
            queryset = queryset.filter(name__icontains=self.cleaned_data["q"].strip())
        return queryset


class IssueForm(forms.Form):
    examined_on = forms.DateField(
        label=_("Examination date"),
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
    )
    result = forms.ChoiceField(
        label=_("Result"), choices=HealthCertificate.Result.choices, widget=forms.RadioSelect
    )
    valid_until = forms.DateField(
        label=_("Valid until"),
        help_text=format_lazy_percent(
            _("At most %(days)d days after the examination."), days=MAX_VALIDITY_DAYS
        ),
        widget=forms.DateInput(attrs=DATE_WIDGET, format="%Y-%m-%d"),
    )
    notes = forms.CharField(
        label=_("Examiner notes (private)"),
        required=False,
        max_length=MAX_NOTES_LENGTH,
        help_text=_("Only your authority ever sees them; they are not in the token."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    @classmethod
    def defaults(cls) -> dict:
        today = timezone.localdate()
        return {"examined_on": today, "valid_until": today + timedelta(days=MAX_VALIDITY_DAYS)}


class CertificateFilterForm(forms.Form):
    STATUSES = [
        ("", _("All")),
        ("valid", _("Valid")),
        ("expired", _("Expired")),
        ("revoked", _("Revoked")),
    ]

    q = forms.CharField(label=_("Name or number"), required=False, max_length=50)
    status = forms.ChoiceField(label=_("Status"), required=False, choices=STATUSES)
    result = forms.ChoiceField(
        label=_("Result"),
        required=False,
        choices=[("", _("All")), *HealthCertificate.Result.choices],
    )

    def __init__(self, *args, may_filter_result: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not may_filter_result:
            del self.fields["result"]


class RevokeForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason for revocation"),
        max_length=300,
        help_text=_("Recorded with your name and the time; verification fails from now on."),
    )


class RotateKeyForm(forms.Form):
    confirm = forms.BooleanField(
        label=_(
            "I understand: new certificates are signed with a new key; those signed with the "
            "current key keep verifying until they expire."
        ),
    )


class VerifyForm(forms.Form):
    token = forms.CharField(
        label=_("Token"),
        required=False,
        max_length=MAX_TOKEN_LENGTH,
        help_text=_("The text printed under the QR code, or scanned from it."),
        widget=forms.Textarea(
            attrs={"rows": 4, "autocomplete": "off", "spellcheck": "false", "class": "token-input"}
        ),
    )
    image = forms.FileField(
        label=_("Or a photo or screenshot of the QR code"),
        required=False,
        help_text=format_lazy_percent(
            _("PNG, JPEG, GIF, WebP or BMP, at most %(max)d MB."),
            max=MAX_IMAGE_BYTES // (1024 * 1024),
        ),
        widget=forms.ClearableFileInput(attrs={"accept": "image/*"}),
    )

    def clean_token(self) -> str:
        # A token has no whitespace; line breaks come from copying a printed, wrapped token.
        return "".join(self.cleaned_data["token"].split())

    def clean_image(self):
        upload = self.cleaned_data.get("image")
        if upload is None:
            return None
        return read_qr_token(upload)

    def clean(self):
        data = super().clean()
        token, image_token = data.get("token"), data.get("image")
        if self.errors:
            return data
        if token and image_token:
            raise forms.ValidationError(_("Give either the token or a picture, not both."))
        if not token and not image_token:
            raise forms.ValidationError(
                _("Paste the token, or upload a photo or screenshot of the QR code.")
            )
        data["token"] = token or image_token
        return data


def read_qr_token(upload) -> str:
    """The text of the first QR code in an uploaded picture; ValidationError for anything
    that is not a real image of sensible size, or that holds no QR code."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    not_an_image = forms.ValidationError(
        _("This file is not a picture. Upload a photo or screenshot (PNG, JPEG, GIF, WebP, BMP)."),
        code="not_image",
    )
    if upload.size > MAX_IMAGE_BYTES:
        raise forms.ValidationError(
            _("The picture is larger than %(max)d MB.") % {"max": MAX_IMAGE_BYTES // (1024 * 1024)},
            code="too_large",
        )
    try:
        with warnings.catch_warnings():
            # Pillow warns, then raises, on decompression bombs: refuse at the warning.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            upload.seek(0)
            with Image.open(upload) as probe:
                if probe.format not in IMAGE_FORMATS:
                    raise not_an_image
                width, height = probe.size
                if width * height > MAX_IMAGE_PIXELS:
                    raise forms.ValidationError(
                        _("The picture has too many pixels; send a smaller photo."),
                        code="too_many_pixels",
                    )
                probe.verify()
            upload.seek(0)
            with Image.open(upload) as picture:
                picture.load()
                results = zxingcpp.read_barcodes(
                    _on_white(picture), formats=zxingcpp.BarcodeFormat.QRCode
                )
    except forms.ValidationError:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        SyntaxError,
        ValueError,
    ) as exc:
        raise not_an_image from exc
    texts = [result.text for result in results if result.valid and result.text]
    if not texts:
        raise forms.ValidationError(
            _("No QR code could be read in this picture. Try a sharper, closer photo."),
            code="no_qr",
        )
    return "".join(texts[0].split())


def _on_white(picture):
    """Greyscale, with any transparency flattened onto white (a transparent QR background
    would otherwise turn black and hide the code)."""
    from PIL import Image

    if picture.mode in {"RGBA", "LA", "PA"} or "transparency" in picture.info:
        rgba = picture.convert("RGBA")
        background = Image.new("RGBA", rgba.size, "white")
        picture = Image.alpha_composite(background, rgba)
    return picture.convert("L")
