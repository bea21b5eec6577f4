"""Pages: arrivals."""

urlpatterns: list = []
