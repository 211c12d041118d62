"""Template helpers of the operations features: watch buttons, the unread badge, saved filters.

Any detail page:  {% load ops_tags %}{% watch_button obj %}
Any list page:    {% include "partials/saved_filters.html" %}
"""
from django import template

from portal.notifications import services as notifications
from portal.savedfilters import services as savedfilters

register = template.Library()


@register.inclusion_tag("partials/watch_button.html", takes_context=True)
def watch_button(context, obj):
    user = context["request"].user
    return {"obj": obj, "model": obj._meta.label_lower, "request": context["request"],
            "csrf_token": context.get("csrf_token"),
            "watching": user.is_authenticated and notifications.is_watching(user, obj)}


@register.inclusion_tag("partials/notification_badge.html", takes_context=True)
def notification_badge(context):
    return {"unread": notifications.unread_count(context["request"].user)}


@register.inclusion_tag("partials/saved_filters_box.html", takes_context=True)
def saved_filters_box(context, page=None):
    request = context["request"]
    page = page or (request.resolver_match.view_name if request.resolver_match else "")
    saved = [(f, savedfilters.saved_filter_url(f)) for f in savedfilters.saved_filters_for(request.user, page)]
    return {"page": page, "saved": saved, "csrf_token": context.get("csrf_token"),
            "querystring": savedfilters.clean_querystring(request.GET.urlencode()),
            "current": request.get_full_path()}
