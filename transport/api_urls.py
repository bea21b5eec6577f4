"""The transport API under /api/v1/transport/: trips, bookings, arrivals, the employer's
placements and the bureaus' flags (transport.api), and statistics (transport.statistics_api)."""

from rest_framework.routers import SimpleRouter

from transport import api, statistics_api

router = SimpleRouter()
router.register("trips", api.TripViewSet, basename="transport-trip")
router.register("bookings", api.BookingViewSet, basename="transport-booking")
router.register("arrivals", api.ArrivalViewSet, basename="transport-arrival")
router.register("placements", api.PlacementViewSet, basename="transport-placement")
router.register("flags", api.FlagViewSet, basename="transport-flag")

urlpatterns = [
    *statistics_api.urlpatterns,
    *router.urls,
]
