"""Forms of the import pages. The file's rules (size, format, columns …) live in
recruitment.imports, which the view calls; the form only asks for a file."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from recruitment.imports import MAX_FILE_BYTES


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Applicant file"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _(
            "CSV or XLSX with the template's columns, at most %(max)d MB."
        ) % {"max": MAX_FILE_BYTES // (1024 * 1024)}
