"""The column chooser, served at the site's root without a namespace."""
from django.urls import path

from portal.lists import views

urlpatterns = [path("lists/columns/", views.list_columns, name="list_columns")]
