"""Pages of the transport app: trips, bookings, manifests, boarding (views.trips); arrivals,
departures, absences and flags (views.arrivals); statistics (views.statistics)."""

from transport.views import arrivals, statistics, trips

app_name = "transport"

urlpatterns = [
    *trips.urlpatterns,
    *arrivals.urlpatterns,
    *statistics.urlpatterns,
]
