"""Pages of webhooks, served at the site's root without a namespace."""
from django.urls import path

from portal.webhooks import views

urlpatterns = [
    path("webhooks/", views.webhook_list, name="webhook_list"),
    path("webhooks/<int:pk>/", views.webhook_detail, name="webhook_detail"),
    path("webhooks/<int:pk>/rotate/", views.webhook_rotate_secret, name="webhook_rotate_secret"),
    path("webhooks/deliveries/<int:pk>/", views.webhook_delivery_detail, name="webhook_delivery_detail"),
    path("webhooks/deliveries/<int:pk>/resend/", views.webhook_delivery_resend, name="webhook_delivery_resend"),
]
