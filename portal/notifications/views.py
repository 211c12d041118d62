"""Pages of notifications and watches: the list, the unread badge, opening one, marking read,
e-mail preferences and the watch button. Views parse, call a service or selector, render."""
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render

from portal.generic import GET, POST, view_of
from portal.notifications import services
from portal.notifications.forms import NotificationPreferenceForm
from portal.notifications.models import Notification
from portal.redirects import safe_next
from portal.scoping import VIEW, get_scoped_or_404


@view_of(Notification, "portal.notification.view_own", methods=GET)
def notification_list(request):
    items = services.notifications_for(request.user)
    if request.GET.get("unread"):
        items = items.filter(read_at__isnull=True)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(request, "portal/notification_list.html", {
        "page": page, "unread": services.unread_count(request.user),
        "preference": services.preference_for(request.user),
        "watches": services.watches_for(request.user)[:100],
    })


@view_of(Notification, "portal.notification.view_own", methods=GET)
def notification_badge(request):
    """The unread count, refreshed in place by htmx."""
    return render(request, "partials/notification_badge.html",
                  {"unread": services.unread_count(request.user)})


@view_of(Notification, "portal.notification.view_own", methods=GET)
def notification_open(request, pk):
    """Open a notification: mark it read and go to what it is about."""
    notification = get_scoped_or_404(request.user, Notification.objects.filter(user=request.user), VIEW, pk=pk)
    services.notifications_mark_read(user=request.user, notification=notification)
    target = notification.url if notification.url.startswith("/") and not notification.url.startswith("//") else ""
    return redirect(target or "notification_list")



@view_of(Notification, "portal.notification.view_own", methods=POST)
def notification_read_all(request):
    count = services.notifications_mark_read(user=request.user)
    messages.success(request, f"{count} notification{'s' if count != 1 else ''} marked read.")
    return redirect("notification_list")


@view_of(Notification, "portal.notification.view_own", methods=(*GET, *POST))
def notification_preferences(request):
    preference = services.preference_for(request.user)
    form = NotificationPreferenceForm(request.POST or None,
                                      initial={"delivery": preference.delivery, "email": preference.email})
    if request.method == "POST" and form.is_valid():
        services.preference_set(user=request.user, delivery=form.cleaned_data["delivery"],
                                email=form.cleaned_data["email"])
        messages.success(request, "Your notification preference was saved.")
        return redirect("notification_list")
    return render(request, "portal/notification_preferences.html", {"form": form})


@view_of(Notification, "portal.notification.view_own", methods=POST)
def watch_toggle(request):
    """Watch or stop watching one object (content type "app.model" and its primary key)."""
    app_label, _, model_name = request.POST.get("model", "").partition(".")
    content_type = ContentType.objects.filter(app_label=app_label, model=model_name).first()
    model = content_type.model_class() if content_type else None
    if model is None or not hasattr(model, "scope_rule"):
        raise Http404("No such object")
    obj = get_scoped_or_404(request.user, model, VIEW, pk=request.POST.get("object_id"))
    watching = request.POST.get("watch") == "1"
    services.watch_set(user=request.user, obj=obj, watching=watching)
    if request.htmx:
        return render(request, "partials/watch_button.html",
                      {"obj": obj, "model": f"{app_label}.{model_name}", "watching": watching})
    messages.success(request, "You are watching it now." if watching else "You no longer watch it.")
    return redirect(safe_next(request, "notification_list"))
