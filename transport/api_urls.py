"""The transport API under /api/v1/transport/: trips, bookings, arrivals (transport.api) and
statistics (transport.statistics_api)."""

from transport import statistics_api

urlpatterns = [
    *statistics_api.urlpatterns,
]
