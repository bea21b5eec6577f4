"""Pages of the health app and its published lists (the API lives in health.api)."""

app_name = "health"

urlpatterns: list = []
