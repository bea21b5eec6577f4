"""Reads of the matching app, scoped to the user.

Runs carry no personal data: every bureau officer, API client and admin may read them.
Matches: the exporting side sees those of the applicants it registered, the importing side
those into its province, an employer those on its own postings; an API client what its
province's bureau sees.
"""

from __future__ import annotations

import functools

from django.db.models import Q, QuerySet

from laborlink.access import is_platform_admin
from laborlink.models import Organization, User
from laborlink.queries import prepared_cursor
from matching.models import Match, MatchRun

Role = User.Role


def _active_org(user: User) -> Organization | None:
    if not user.is_authenticated or user.organization_id is None:
        return None
    org = user.organization
    return org if org.is_active else None


def runs_visible_to(user: User) -> QuerySet[MatchRun]:
    qs = MatchRun.objects.select_related("requested_by")
    if is_platform_admin(user):
        return qs
    org = _active_org(user)
    if org is None or org.kind != Organization.Kind.BUREAU:
        return qs.none()
    if user.role not in {Role.BUREAU_OFFICER, Role.API_CLIENT}:
        return qs.none()
    return qs


def _newest_finished_runs() -> QuerySet[MatchRun]:
    """Finished runs, newest first: the first one's proposals are the current ones."""
    return MatchRun.objects.filter(status=MatchRun.Status.DONE).order_by("-finished_at", "-id")


def latest_run() -> MatchRun | None:
    """The newest finished run (its proposals are the current ones)."""
    return _newest_finished_runs().first()


def latest_run_id() -> int | None:
    """`latest_run`'s id, by the same query compiled once per process and prepared once per
    connection (the match list asks for it on every page, and building and compiling the
    query cost more than reading it)."""
    sql, params = _latest_run_id_statement()
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return row[0] if row else None


@functools.cache
def _latest_run_id_statement() -> tuple[str, tuple]:
    return _newest_finished_runs().values_list("pk", flat=True)[:1].query.sql_with_params()


def matches_visible_to(user: User, queryset: QuerySet[Match] | None = None) -> QuerySet[Match]:
    """The matches `user` may read: of `queryset` if given (e.g. rows of chosen columns),
    else with their run, applicant, posting and provinces."""
    qs = queryset
    if qs is None:
        qs = Match.objects.select_related(
            "run",
            "applicant",
            "posting",
            "posting__employer",
            "exporting_province",
            "importing_province",
        )
    if is_platform_admin(user):
        return qs
    org = _active_org(user)
    if org is None:
        return qs.none()
    if user.role == Role.HR_OFFICER and org.kind == Organization.Kind.EMPLOYER:
        return qs.filter(posting__employer=org)
    if user.role not in {Role.BUREAU_OFFICER, Role.API_CLIENT} or org.kind != (
        Organization.Kind.BUREAU
    ):
        return qs.none()
    from recruitment.selectors import registry_scope

    # A join, not EXISTS: under OR, PostgreSQL hashes the whole EXISTS subquery (every
    # applicant of the province) for each page; the join checks only the rows of the page.
    return qs.filter(
        Q(importing_province_id=org.province_id) | registry_scope(org, prefix="applicant__")
    )


def with_contact_visibility(user: User, queryset: QuerySet[Match]) -> QuerySet[Match]:
    """For an employer, annotate whether the matched applicant accepted one of its offers
    (then name and phone may be shown): the applicants' rule, applied to matches."""
    from recruitment.selectors import with_contact_visibility as applicants_rule

    return applicants_rule(user, queryset, applicant_ref="applicant_id")
