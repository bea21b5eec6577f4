"""Pagination classes for the API."""

from rest_framework import pagination


class PageNumberPagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class CursorPagination(pagination.CursorPagination):
    """For large, append-mostly lists (match results): stable under concurrent inserts."""

    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000
    ordering = "-id"
