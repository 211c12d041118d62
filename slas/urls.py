"""Pages of the slas app."""
app_name = "slas"
urlpatterns = []
