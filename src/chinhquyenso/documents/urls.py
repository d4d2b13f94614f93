"""Officers' document pages, under /can-bo/van-ban/."""

app_name = "documents"

urlpatterns = []
