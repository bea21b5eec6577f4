"""Forms of the applicant registry pages. They check types; the rules live in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from laborlink.regions import PROVINCES
from recruitment.models import KeyGroup, PersonalDataReveal, Sex
from recruitment.occupations import Occupation
from recruitment.registry import MAX_NAME_LENGTH, MAX_NOTES_LENGTH, MAX_WAGE


def province_choices():
    from django.utils import translation

    zh = (translation.get_language() or "zh-hans").startswith("zh")
    return [(row[0], row[1] if zh else row[2]) for row in PROVINCES]


class ApplicantForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=MAX_NAME_LENGTH)
    national_id = forms.CharField(
        label=_("National ID number"),
        max_length=40,
        help_text=_("18 characters; the last may be X. Sex and birth date are read from it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("Mobile phone"),
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}),
    )
    skills = forms.MultipleChoiceField(
        label=_("Skills"),
        choices=Occupation.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    preferred_provinces = forms.MultipleChoiceField(
        label=_("Preferred provinces"),
        choices=province_choices,
        required=False,
        help_text=_("Leave empty if the applicant will go to any cooperating province."),
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    minimum_wage = forms.IntegerField(
        label=_("Minimum wage (CNY/month)"), min_value=0, max_value=MAX_WAGE, required=False
    )
    available_from = forms.DateField(
        label=_("Available from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    key_groups = forms.MultipleChoiceField(
        label=_("Key groups"),
        choices=KeyGroup.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    consent = forms.BooleanField(
        label=_("The applicant consents to sharing this record with cooperating provinces"),
        required=False,
    )
    notes = forms.CharField(
        label=_("Notes"),
        max_length=MAX_NOTES_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def service_values(self) -> dict:
        data = dict(self.cleaned_data)
        if data.get("minimum_wage") is None:
            data["minimum_wage"] = 0
        return data


class ApplicantEditForm(ApplicantForm):
    """Corrections: everything but the ID number."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["national_id"]


class RevealForm(forms.Form):
    field = forms.ChoiceField(label=_("Show"), choices=PersonalDataReveal.Field.choices)
    reason = forms.CharField(
        label=_("Reason"),
        max_length=300,
        help_text=_("Recorded with your name and the time."),
    )


class ApplicantFilterForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False)
    skill = forms.ChoiceField(
        label=_("Skill"), required=False, choices=[("", _("All")), *Occupation.choices]
    )
    key_group = forms.ChoiceField(
        label=_("Key group"), required=False, choices=[("", _("All")), *KeyGroup.choices]
    )
    sex = forms.ChoiceField(label=_("Sex"), required=False, choices=[("", _("All")), *Sex.choices])
    consent = forms.ChoiceField(
        label=_("Consent"),
        required=False,
        choices=[("", _("All")), ("yes", _("Given")), ("no", _("Not given"))],
    )
    flagged = forms.BooleanField(label=_("Region code to review"), required=False)

    def apply(self, queryset):
        if not self.is_valid():
            return queryset
        data = self.cleaned_data
        if data["q"]:
            queryset = queryset.filter(name__icontains=data["q"].strip())
        if data["skill"]:
            queryset = queryset.filter(skills__contains=[data["skill"]])
        if data["key_group"]:
            queryset = queryset.filter(key_groups__contains=[data["key_group"]])
        if data["sex"]:
            queryset = queryset.filter(sex=data["sex"])
        if data["consent"]:
            queryset = queryset.filter(consent_cross_province=data["consent"] == "yes")
        if data["flagged"]:
            queryset = queryset.filter(region_known=False)
        return queryset
