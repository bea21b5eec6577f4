"""Browser pages of the recruitment app, one module per area; each defines `urlpatterns`."""
