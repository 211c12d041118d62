"""Pages of webhooks: endpoints (register, change, rotate the secret) and their deliveries
(read, resend). Views parse, call a service or selector, render."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render

from portal.access import may
from portal.generic import GET, POST, view_of
from portal.scoping import CHANGE, VIEW, get_scoped_or_404, scope
from portal.webhooks import services
from portal.webhooks.forms import WebhookEndpointForm
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint


@view_of(WebhookEndpoint, "portal.webhookendpoint.view_list", methods=(*GET, *POST))
def webhook_list(request):
    may_create = request.user.organisation is not None and may(
        request.user, "portal.webhookendpoint.add", organisation=request.user.organisation)
    form = WebhookEndpointForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("You may not register webhook endpoints.")
        if form.is_valid():
            try:
                endpoint = services.endpoint_save(actor=request.user, organisation=request.user.organisation,
                                                  **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Endpoint {endpoint.name} registered. Its secret is on its page.")
                return redirect("webhook_detail", pk=endpoint.pk)
    endpoints = scope(request.user, WebhookEndpoint.objects.select_related("organisation"))
    return render(request, "portal/webhook_list.html",
                  {"endpoints": endpoints, "form": form if may_create else None})


@view_of(WebhookEndpoint, "portal.webhookendpoint.view", methods=(*GET, *POST))
def webhook_detail(request, pk):
    endpoint = get_scoped_or_404(request.user, WebhookEndpoint.objects.select_related("organisation"),
                                 CHANGE if request.method == "POST" else VIEW, pk=pk)
    may_change = scope(request.user, WebhookEndpoint.objects.filter(pk=pk), CHANGE).exists()
    form = WebhookEndpointForm(request.POST or None, initial={
        "name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_save(actor=request.user, organisation=endpoint.organisation, endpoint=endpoint,
                                   **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Endpoint saved.")
            return redirect("webhook_detail", pk=endpoint.pk)
    deliveries = Paginator(
        scope(request.user, WebhookDelivery.objects.filter(endpoint=endpoint)), 50).get_page(request.GET.get("page"))
    return render(request, "portal/webhook_detail.html",
                  {"endpoint": endpoint, "form": form if may_change else None, "deliveries": deliveries})



@view_of(WebhookEndpoint, "portal.webhookendpoint.change", methods=POST)
def webhook_rotate_secret(request, pk):
    endpoint = get_scoped_or_404(request.user, WebhookEndpoint, CHANGE, pk=pk)
    services.endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
    messages.success(request, "A new secret was issued; the old one no longer signs deliveries.")
    return redirect("webhook_detail", pk=endpoint.pk)



@view_of(WebhookDelivery, "portal.webhookdelivery.view", methods=GET)
def webhook_delivery_detail(request, pk):
    delivery = get_scoped_or_404(request.user, WebhookDelivery.objects.select_related("endpoint"), VIEW, pk=pk)
    return render(request, "portal/webhook_delivery.html", {"delivery": delivery})



@view_of(WebhookDelivery, "portal.webhookdelivery.change", methods=POST)
def webhook_delivery_resend(request, pk):
    delivery = get_scoped_or_404(request.user, WebhookDelivery.objects.select_related("endpoint"), CHANGE, pk=pk)
    copy = services.delivery_resend(delivery=delivery, actor=request.user)
    messages.success(request, "The delivery was queued again.")
    return redirect("webhook_delivery_detail", pk=copy.pk)

