"""Pages of the matching app (the API lives in matching.api)."""

from matching.views import urlpatterns as view_urls

app_name = "matching"

urlpatterns = [*view_urls]
