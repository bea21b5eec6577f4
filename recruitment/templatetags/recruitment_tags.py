"""Template helpers shared by the recruitment pages."""

from __future__ import annotations

from django import template

from recruitment.occupations import occupation_label

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with some parameters replaced (for paging and sorting)."""
    query = context["request"].GET.copy()
    for key, value in changes.items():
        query[key] = value
    return query.urlencode()


@register.filter
def occupation(code: str) -> str:
    return occupation_label(code)


@register.filter
def occupations(codes) -> str:
    return "、".join(occupation_label(code) for code in codes or [])


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
