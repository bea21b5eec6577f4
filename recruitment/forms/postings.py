"""Forms of the job-posting pages: the posting form and the list's filters.

The posting form checks types and required fields only; every business rule (wage range,
deadline before start, provinces with an agreement in force …) is the services' and comes
back as a `DomainError` shown against its field.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from laborlink.models import Organization, Province, User
from laborlink.selectors import cooperating_exporting_provinces, provinces_all
from recruitment.models import JobPosting, Urgency
from recruitment.occupations import Occupation
from recruitment.services import MAX_POSTING_POSITIONS, MAX_WAGE, POSTING_FIELDS

EXPIRED = "expired"
MAX_AGE = 70
MIN_AGE = 16
ALL = _("All")


def _label(name: str):
    """The model field's own (translated) name, so that form and admin say the same."""
    return capfirst(JobPosting._meta.get_field(name).verbose_name)


def _date_input() -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _amount(name: str, *, minimum: int, maximum: int, required: bool = True, initial=None):
    return forms.IntegerField(
        label=_label(name),
        min_value=minimum,
        max_value=maximum,
        required=required,
        initial=initial,
    )


class PostingForm(forms.Form):
    """Every field of `services.POSTING_FIELDS` plus the target exporting provinces, which
    are limited to the provinces cooperating with the employer's province today."""

    title = forms.CharField(label=_label("title"), max_length=120)
    occupation = forms.ChoiceField(
        label=_label("occupation"), choices=[("", "---------"), *Occupation.choices]
    )
    urgency = forms.ChoiceField(
        label=_label("urgency"), choices=Urgency.choices, initial=Urgency.NORMAL
    )
    positions = _amount("positions", minimum=1, maximum=MAX_POSTING_POSITIONS)
    wage_min = _amount("wage_min", minimum=1, maximum=MAX_WAGE)
    wage_max = _amount("wage_max", minimum=1, maximum=MAX_WAGE)
    start_date = forms.DateField(label=_label("start_date"), widget=_date_input())
    deadline = forms.DateField(label=_label("deadline"), widget=_date_input())
    city = forms.CharField(label=_label("city"), max_length=64)
    county = forms.CharField(label=_label("county"), max_length=64, required=False)
    workplace = forms.CharField(label=_label("workplace"), max_length=200, required=False)
    age_min = _amount("age_min", minimum=MIN_AGE, maximum=MAX_AGE, initial=18)
    age_max = _amount("age_max", minimum=MIN_AGE, maximum=MAX_AGE, initial=55)
    housing_subsidy = _amount("housing_subsidy", minimum=0, maximum=MAX_WAGE, initial=0)
    transport_subsidy = _amount("transport_subsidy", minimum=0, maximum=MAX_WAGE, initial=0)
    housing_provided = forms.BooleanField(label=_label("housing_provided"), required=False)
    caring_job = forms.BooleanField(
        label=_label("caring_job"),
        help_text=JobPosting._meta.get_field("caring_job").help_text,
        required=False,
    )
    contact_name = forms.CharField(label=_label("contact_name"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_label("contact_phone"), max_length=32, required=False)
    description = forms.CharField(
        label=_label("description"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    target_provinces = forms.ModelMultipleChoiceField(
        label=_label("target_provinces"),
        queryset=Province.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_("Only provinces with a cooperation agreement in force can be targeted."),
    )

    def __init__(self, *args, employer: Organization, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        provinces = cooperating_exporting_provinces(
            importing=employer.province_id, on=timezone.localdate()
        ).order_by("code")
        self.fields["target_provinces"].queryset = provinces
        if not self.is_bound and "target_provinces" not in self.initial:
            # A new posting goes to every cooperating province unless the officer unticks one.
            self.initial["target_provinces"] = [p.code for p in provinces]

    @classmethod
    def initial_from(cls, posting: JobPosting) -> dict:
        initial = {name: getattr(posting, name) for name in POSTING_FIELDS}
        initial["target_provinces"] = [p.code for p in posting.target_provinces.all()]
        return initial

    def service_values(self) -> dict:
        """Keyword arguments for `posting_create` / `posting_update`."""
        values = {name: self.cleaned_data[name] for name in POSTING_FIELDS}
        values["target_provinces"] = [p.code for p in self.cleaned_data["target_provinces"]]
        return values


class PostingFilter(django_filters.FilterSet):
    """The list page's filters (the API has its own in recruitment.api)."""

    q = django_filters.CharFilter(label=_("Search"), method="filter_search")
    status = django_filters.ChoiceFilter(
        label=_label("status"),
        choices=[*JobPosting.Status.choices, (EXPIRED, _("Expired"))],
        empty_label=ALL,
        method="filter_status",
    )
    urgency = django_filters.ChoiceFilter(
        label=_label("urgency"), choices=Urgency.choices, empty_label=ALL
    )
    occupation = django_filters.ChoiceFilter(
        label=_label("occupation"), choices=Occupation.choices, empty_label=ALL
    )
    city = django_filters.CharFilter(label=_label("city"), lookup_expr="icontains")
    province = django_filters.ModelChoiceFilter(
        label=_("Employer's province"), queryset=provinces_all(), empty_label=ALL
    )
    target = django_filters.ModelChoiceFilter(
        label=_("Target province"),
        queryset=provinces_all(),
        empty_label=ALL,
        method="filter_target",
    )

    class Meta:
        model = JobPosting
        fields: list[str] = []

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if user.role == User.Role.HR_OFFICER:
            # An employer's postings all lie in its own province.
            del self.filters["province"]

    def filter_search(self, queryset: QuerySet[JobPosting], name: str, value: str):
        words = value.split()
        for word in words:
            queryset = queryset.filter(
                Q(title__icontains=word)
                | Q(employer__name__icontains=word)
                | Q(city__icontains=word)
            )
        return queryset

    def filter_status(self, queryset: QuerySet[JobPosting], name: str, value: str):
        today = timezone.localdate()
        running = [JobPosting.Status.OPEN, JobPosting.Status.PAUSED]
        if value == EXPIRED:
            return queryset.filter(status__in=running, deadline__lt=today)
        if value in running:
            # Past its deadline an open or paused posting is shown as expired, not as itself.
            return queryset.filter(status=value, deadline__gte=today)
        return queryset.filter(status=value)

    def filter_target(self, queryset: QuerySet[JobPosting], name: str, value: Province):
        targeted = JobPosting.target_provinces.through.objects.filter(
            jobposting_id=OuterRef("pk"), province_id=value.pk
        )
        return queryset.filter(Exists(targeted))
