"""Public signature verification, under /xac-thuc/."""

app_name = "signing"

urlpatterns = []
