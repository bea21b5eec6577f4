"""Pages: statistics."""

urlpatterns: list = []
