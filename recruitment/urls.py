"""Pages of the recruitment app (the API lives in recruitment.api)."""

from recruitment.views import applicants, imports, postings, whitelist

app_name = "recruitment"

urlpatterns = [
    *postings.urlpatterns,
    *applicants.urlpatterns,
    *whitelist.urlpatterns,
    *imports.urlpatterns,
]
