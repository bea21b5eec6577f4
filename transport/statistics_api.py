"""Statistics API: aggregates for bureaus, computed in the database."""

urlpatterns: list = []
