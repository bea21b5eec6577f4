"""Pages: trips."""

urlpatterns: list = []
