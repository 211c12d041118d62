"""Pages of the adapter app."""
app_name = "adapter"
urlpatterns = []
