"""The page's <title> and breadcrumbs, drawn once by base.html (portal.breadcrumbs derives both):

    <title>{% load crumbs %}{% titled %}{% block title %}…{% endblock %}{% endtitled %} · DCC portal</title>
    {% block breadcrumbs %}{% breadcrumbs %}{% endblock %}

``titled`` renders the page's title block once, keeps it for the trail's last step and writes
the title naming the page's object; a page may replace ``{% block breadcrumbs %}`` altogether.
"""
from django import template
from django.utils.safestring import SafeData, mark_safe

from portal import breadcrumbs as trails

register = template.Library()

TITLE_KEY = "portal_page_title"


class TitledNode(template.Node):
    def __init__(self, nodelist):
        self.nodelist = nodelist

    def render(self, context):
        title = self.nodelist.render(context)
        context.render_context[TITLE_KEY] = title
        request = context.get("request")
        return trails.page_title(request, context, title) if request is not None else title


@register.tag
def titled(parser, token):
    nodelist = parser.parse(("endtitled",))
    parser.delete_first_token()
    return TitledNode(nodelist)


@register.inclusion_tag("partials/breadcrumbs.html", takes_context=True)
def breadcrumbs(context):
    request = context.get("request")
    title = context.render_context.get(TITLE_KEY, "")
    # the rendered title is already escaped: strip() must not make it text to escape again
    title = mark_safe(title.strip()) if isinstance(title, SafeData) else title.strip()  # noqa: S308
    return {"crumbs": trails.trail(request, context, title) if request is not None else []}
