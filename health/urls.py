"""Pages of the health app and its published lists (the API lives in health.api)."""

from health.views import certificates, keys, published, verification

app_name = "health"

urlpatterns = [
    *certificates.urlpatterns,
    *keys.urlpatterns,
    *verification.urlpatterns,
    *published.urlpatterns,
]
