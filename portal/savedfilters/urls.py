"""Pages of saved filters, served at the site's root without a namespace."""
from django.urls import path

from portal.savedfilters import views

urlpatterns = [
    path("filters/save/", views.saved_filter_save, name="saved_filter_save"),
    path("filters/<int:pk>/delete/", views.saved_filter_delete, name="saved_filter_delete"),
]
