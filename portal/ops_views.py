"""Pages of the portal's operations features: notifications, watches, webhooks, saved filters,
search and the dashboard's tiles. Views parse, call a service or selector, render."""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from portal import notifications, savedfilters, webhooks
from portal.dbrouter import replica_reads
from portal.models import Notification, SavedFilter, WebhookDelivery, WebhookEndpoint
from portal.ops_forms import NotificationPreferenceForm, SavedFilterForm, WebhookEndpointForm
from portal.scoping import CHANGE, VIEW, can_create, get_scoped_or_404, scope


def _safe_next(request, fallback):
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


# --- notifications ------------------------------------------------------------------------

@login_required
@require_GET
def notification_list(request):
    items = notifications.notifications_for(request.user)
    if request.GET.get("unread"):
        items = items.filter(read_at__isnull=True)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "portal/notification_list.html", {
        "page": page, "unread": notifications.unread_count(request.user),
        "preference": notifications.preference_for(request.user),
        "watches": notifications.watches_for(request.user)[:100],
    })


@login_required
@require_GET
def notification_badge(request):
    """The unread count, refreshed in place by htmx."""
    return render(request, "partials/notification_badge.html",
                  {"unread": notifications.unread_count(request.user)})


@login_required
@require_GET
def notification_open(request, pk):
    """Open a notification: mark it read and go to what it is about."""
    notification = get_scoped_or_404(request.user, Notification.objects.filter(user=request.user), VIEW, pk=pk)
    notifications.notifications_mark_read(user=request.user, notification=notification)
    target = notification.url if notification.url.startswith("/") and not notification.url.startswith("//") else ""
    return redirect(target or "notification_list")


notification_open.scoped_model = Notification


@login_required
@require_POST
def notification_read_all(request):
    count = notifications.notifications_mark_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notification_list")


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    preference = notifications.preference_for(request.user)
    form = NotificationPreferenceForm(request.POST or None,
                                      initial={"delivery": preference.delivery, "email": preference.email})
    if request.method == "POST" and form.is_valid():
        notifications.preference_set(user=request.user, delivery=form.cleaned_data["delivery"],
                                     email=form.cleaned_data["email"])
        messages.success(request, "Your notification preference was saved.")
        return redirect("notification_list")
    return render(request, "portal/notification_preferences.html", {"form": form})


@login_required
@require_POST
def watch_toggle(request):
    """Watch or stop watching one object (content type "app.model" and its primary key)."""
    app_label, _, model_name = request.POST.get("model", "").partition(".")
    content_type = ContentType.objects.filter(app_label=app_label, model=model_name).first()
    model = content_type.model_class() if content_type else None
    if model is None or not hasattr(model, "scope_rule"):
        raise Http404("No such object")
    obj = get_scoped_or_404(request.user, model, VIEW, pk=request.POST.get("object_id"))
    watching = request.POST.get("watch") == "1"
    notifications.watch_set(user=request.user, obj=obj, watching=watching)
    if request.headers.get("HX-Request"):
        return render(request, "partials/watch_button.html",
                      {"obj": obj, "model": f"{app_label}.{model_name}", "watching": watching})
    messages.success(request, "You are watching it now." if watching else "You no longer watch it.")
    return redirect(_safe_next(request, "notification_list"))


# --- webhooks -----------------------------------------------------------------------------

@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    may_create = request.user.organisation is not None and can_create(
        request.user, WebhookEndpoint, request.user.organisation)
    form = WebhookEndpointForm(request.POST or None, initial={"is_active": True})
    if request.method == "POST":
        if not may_create:
            raise PermissionDenied("You may not register webhook endpoints.")
        if form.is_valid():
            try:
                endpoint = webhooks.endpoint_save(actor=request.user, organisation=request.user.organisation,
                                                  **form.cleaned_data)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"Endpoint {endpoint.name} registered. Its secret is on its page.")
                return redirect("webhook_detail", pk=endpoint.pk)
    endpoints = scope(request.user, WebhookEndpoint.objects.select_related("organisation"))
    return render(request, "portal/webhook_list.html",
                  {"endpoints": endpoints, "form": form if may_create else None})


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request, pk):
    endpoint = get_scoped_or_404(request.user, WebhookEndpoint.objects.select_related("organisation"),
                                 CHANGE if request.method == "POST" else VIEW, pk=pk)
    may_change = scope(request.user, WebhookEndpoint.objects.filter(pk=pk), CHANGE).exists()
    form = WebhookEndpointForm(request.POST or None, initial={
        "name": endpoint.name, "url": endpoint.url, "events": endpoint.events, "is_active": endpoint.is_active})
    if request.method == "POST" and form.is_valid():
        try:
            webhooks.endpoint_save(actor=request.user, organisation=endpoint.organisation, endpoint=endpoint,
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


webhook_detail.scoped_model = WebhookEndpoint


@login_required
@require_POST
def webhook_rotate_secret(request, pk):
    endpoint = get_scoped_or_404(request.user, WebhookEndpoint, CHANGE, pk=pk)
    webhooks.endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
    messages.success(request, "A new secret was issued; the old one no longer signs deliveries.")
    return redirect("webhook_detail", pk=endpoint.pk)


webhook_rotate_secret.scoped_model = WebhookEndpoint


@login_required
@require_GET
def webhook_delivery_detail(request, pk):
    delivery = get_scoped_or_404(request.user, WebhookDelivery.objects.select_related("endpoint"), VIEW, pk=pk)
    return render(request, "portal/webhook_delivery.html", {"delivery": delivery})


webhook_delivery_detail.scoped_model = WebhookDelivery


@login_required
@require_POST
def webhook_delivery_resend(request, pk):
    delivery = get_scoped_or_404(request.user, WebhookDelivery.objects.select_related("endpoint"), CHANGE, pk=pk)
    copy = webhooks.delivery_resend(delivery=delivery, actor=request.user)
    messages.success(request, "The delivery was queued again.")
    return redirect("webhook_delivery_detail", pk=copy.pk)


webhook_delivery_resend.scoped_model = WebhookDelivery


# --- saved filters ------------------------------------------------------------------------

@login_required
@require_POST
def saved_filter_save(request):
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the filter a name.")
        return redirect(_safe_next(request, "home"))
    data = form.cleaned_data
    try:
        saved = savedfilters.saved_filter_save(user=request.user, page=data["page"], name=data["name"],
                                               querystring=data["querystring"])
    except ValidationError as error:
        messages.error(request, "; ".join(error.messages))
        return redirect(_safe_next(request, "home"))
    messages.success(request, f"Filter {saved.name} saved.")
    return redirect(savedfilters.saved_filter_url(saved))


@login_required
@require_POST
def saved_filter_delete(request, pk):
    saved = get_scoped_or_404(request.user, SavedFilter.objects.filter(user=request.user), VIEW, pk=pk)
    page = saved.page
    savedfilters.saved_filter_delete(saved_filter=saved)
    messages.success(request, "Filter deleted.")
    return redirect(_safe_next(request, reverse(page)))


saved_filter_delete.scoped_model = SavedFilter


# --- search and dashboard -----------------------------------------------------------------

@login_required
@require_GET
@replica_reads
def search(request):
    from portal import search as search_module

    query = request.GET.get("q", "").strip()
    groups = search_module.search(request.user, query) if query else []
    return render(request, "portal/search.html", {"query": query, "groups": groups,
                                                  "total": sum(len(g.results) for g in groups)})


@login_required
@require_GET
@replica_reads
def dashboard_tile(request, tile):
    from portal import dashboard

    found = dashboard.tile_for(request.user, tile)
    if found is None:
        raise Http404("No such tile")
    return HttpResponse(found.render(request))
