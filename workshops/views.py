"""Pages of the governance registers. Views parse, call a service and render; every queryset passes
portal.scoping.scope, and one object is fetched with get_scoped_or_404 (others' objects are 404)."""
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from portal import tabular
from portal.dbrouter import replica_reads
from portal.imports import import_page
from portal.scoping import CHANGE, VIEW, can_create, get_scoped_or_404, scope
from workshops import charts, forms, importers, printing, selectors, services
from workshops.choices import RAID_OPEN, ActionStatus, RaidStatus
from workshops.filtersets import (
    ActionFilterSet,
    CommentFilterSet,
    ConsultationFilterSet,
    DocumentFilterSet,
    MeetingFilterSet,
    RaidFilterSet,
)
from workshops.models import (
    Action,
    AgendaItem,
    Comment,
    Consultation,
    Document,
    DocumentVersion,
    Meeting,
    MeetingSeries,
    Milestone,
    RaidItem,
    Topic,
)

PAGE_SIZE = 50


def scoped(model):
    """Mark a view as showing one ``model`` object by key (tests/urlsweep.py reads it)."""
    def mark(view):
        view.scoped_model = model
        return view
    return mark


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


def _require_create(request, model):
    if not can_create(request.user, model):
        raise PermissionDenied("Only DCC staff maintain the governance registers.")


def _errors_to_form(form, exc):
    """Put a service's ValidationError on the form (field errors where the field exists)."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def _form_page(request, form, *, title, cancel, obj=None, enctype=False):
    return render(request, "workshops/form.html",
                  {"form": form, "title": title, "cancel": cancel, "object": obj, "multipart": enctype})


def _save_form(request, form, save, *, title, cancel, obj=None, success=None):
    """Validate ``form``; call ``save(cleaned_data)``; redirect to the result or show the errors."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as exc:
            _errors_to_form(form, exc)
        else:
            messages.success(request, success or f"Saved {result}.")
            return redirect(result.get_absolute_url())
    return _form_page(request, form, title=title, cancel=cancel, obj=obj)


def htmx(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        request.htmx = request.headers.get("HX-Request") == "true"
        return view(request, *args, **kwargs)
    return wrapped


# --- Meetings ------------------------------------------------------------------------------

@login_required
def meeting_list(request):
    filterset = MeetingFilterSet(request.GET, queryset=scope(request.user, Meeting).select_related("series"),
                                 request=request)
    page, query = _page(request, filterset.qs)
    series = scope(request.user, MeetingSeries)
    return render(request, "workshops/meeting_list.html", {"filter": filterset, "page": page, "query": query,
                                                           "series": series,
                                                           "can_edit": can_create(request.user, Meeting)})


@login_required
@scoped(MeetingSeries)
def series_detail(request, pk):
    series = get_scoped_or_404(request.user, MeetingSeries, pk=pk)
    meetings = scope(request.user, Meeting).filter(series=series).order_by("-date")
    return render(request, "workshops/series_detail.html", {"series": series, "meetings": meetings})


@login_required
def series_create(request):
    _require_create(request, MeetingSeries)
    form = forms.SeriesForm(request.POST or None)
    return _save_form(request, form, lambda data: services.series_save(actor=request.user, **data),
                      title="New meeting series", cancel=reverse("workshops:meeting_list"))


@login_required
@scoped(Meeting)
def meeting_detail(request, pk):
    meeting = get_scoped_or_404(request.user, Meeting.objects.select_related("series"), pk=pk)
    can_edit = scope(request.user, Meeting, CHANGE).filter(pk=pk).exists()
    return render(request, "workshops/meeting_detail.html", {
        "meeting": meeting, "agenda": selectors.meeting_with_agenda(meeting),
        "actions": meeting.actions.prefetch_related("owners").order_by("reference"), "can_edit": can_edit,
        "agenda_form": forms.AgendaItemForm() if can_edit else None,
        "outcome_form": forms.OutcomeForm() if can_edit else None,
        "action_form": forms.ActionForm() if can_edit else None,
    })


@login_required
def meeting_create(request):
    _require_create(request, Meeting)
    form = forms.MeetingForm(request.POST or None, initial=request.GET.dict())
    return _save_form(request, form, lambda data: services.meeting_save(actor=request.user, **data),
                      title="New meeting", cancel=reverse("workshops:meeting_list"))


@login_required
@scoped(Meeting)
def meeting_edit(request, pk):
    meeting = get_scoped_or_404(request.user, Meeting, CHANGE, pk=pk)
    form = forms.MeetingForm(request.POST or None, instance=meeting)
    return _save_form(request, form, lambda data: services.meeting_save(meeting=meeting, actor=request.user, **data),
                      title=f"Edit {meeting}", cancel=meeting.get_absolute_url(), obj=meeting)


@login_required
@require_POST
@scoped(Meeting)
def agenda_item_add(request, pk):
    meeting = get_scoped_or_404(request.user, Meeting, CHANGE, pk=pk)
    form = forms.AgendaItemForm(request.POST)
    if form.is_valid():
        try:
            services.agenda_item_save(meeting=meeting, actor=request.user, **form.cleaned_data)
            messages.success(request, "Agenda item added.")
        except ValidationError as exc:
            messages.error(request, "; ".join(exc.messages))
    else:
        messages.error(request, "Agenda item not added: " + "; ".join(f"{k}: {' '.join(v)}"
                                                                        for k, v in form.errors.items()))
    return redirect(meeting.get_absolute_url())


@login_required
@scoped(AgendaItem)
def agenda_item_edit(request, pk):
    item = get_scoped_or_404(request.user, AgendaItem.objects.select_related("meeting"), CHANGE, pk=pk)
    form = forms.AgendaItemForm(request.POST or None, instance=item)
    return _save_form(request, form, lambda data: services.agenda_item_save(item=item, actor=request.user, **data),
                      title=f"Edit agenda item {item}", cancel=item.get_absolute_url(), obj=item)


@login_required
@require_POST
@scoped(AgendaItem)
def agenda_outcome_add(request, pk):
    item = get_scoped_or_404(request.user, AgendaItem.objects.select_related("meeting"), CHANGE, pk=pk)
    form = forms.OutcomeForm(request.POST)
    if form.is_valid():
        services.agenda_outcome_add(agenda_item=item, actor=request.user, **form.cleaned_data)
        messages.success(request, "Outcome recorded.")
    else:
        messages.error(request, "Outcome not recorded: give its kind and text.")
    return redirect(item.get_absolute_url())


@login_required
@require_POST
@scoped(AgendaItem)
def agenda_action_raise(request, pk):
    item = get_scoped_or_404(request.user, AgendaItem.objects.select_related("meeting__series"), CHANGE, pk=pk)
    form = forms.ActionForm(request.POST)
    if form.is_valid():
        action = services.action_raise(meeting=item.meeting, agenda_item=item, actor=request.user,
                                       **form.cleaned_data)
        messages.success(request, f"Action {action.reference} raised.")
    else:
        messages.error(request, "Action not raised: " + "; ".join(f"{k}: {' '.join(v)}"
                                                                  for k, v in form.errors.items()))
    return redirect(item.get_absolute_url())


@login_required
@scoped(Meeting)
def meeting_print(request, pk):
    meeting = get_scoped_or_404(request.user, Meeting.objects.select_related("series"), pk=pk)
    return HttpResponse(printing.meeting_html(meeting, minutes=request.GET.get("minutes") == "1"))


@login_required
@scoped(Meeting)
def meeting_pdf(request, pk):
    meeting = get_scoped_or_404(request.user, Meeting.objects.select_related("series"), pk=pk)
    minutes = request.GET.get("minutes") == "1"
    response = HttpResponse(printing.meeting_pdf(meeting, minutes=minutes), content_type="application/pdf")
    kind = "minutes" if minutes else "agenda"
    response["Content-Disposition"] = f'inline; filename="{meeting.series.code}-{meeting.number}-{kind}.pdf"'
    return response


@login_required
@scoped(Meeting)
def meeting_ics(request, pk):
    meeting = get_scoped_or_404(request.user, Meeting.objects.select_related("series"), pk=pk)
    response = HttpResponse(printing.calendar_bytes([meeting], name=str(meeting)),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{meeting.series.code}-{meeting.number}.ics"'
    return response


@scoped(MeetingSeries)
def series_feed(request, pk):
    """Subscribable calendar of a series. Calendar programs cannot log in, so besides a session
    the feed accepts the user's API token as ``?token=`` (the account page shows it)."""
    user = request.user
    token = request.GET.get("token")
    if token and not user.is_authenticated:
        from rest_framework.authtoken.models import Token

        found = Token.objects.select_related("user").filter(key=token).first()
        user = found.user if found and found.user.is_active else user
    if not user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    series = get_scoped_or_404(user, MeetingSeries, pk=pk)
    meetings = scope(user, Meeting).filter(series=series).select_related("series").order_by("date")
    return HttpResponse(printing.calendar_bytes(meetings, name=series.name),
                        content_type="text/calendar; charset=utf-8")


# --- Actions -------------------------------------------------------------------------------

@login_required
def action_list(request):
    filterset = ActionFilterSet(request.GET, queryset=selectors.actions_for_list(request.user), request=request)
    page, query = _page(request, filterset.qs)
    can_edit = can_create(request.user, Action)
    return render(request, "workshops/action_list.html", {
        "filter": filterset, "page": page, "query": query, "can_edit": can_edit, "statuses": ActionStatus.choices,
        "today": timezone.localdate(),
    })


@login_required
def action_mine(request):
    query = request.GET.copy()
    query["mine"] = "true"
    return redirect(reverse("workshops:action_list") + "?" + query.urlencode())


@login_required
@scoped(Action)
def action_detail(request, pk):
    action = get_scoped_or_404(request.user, Action.objects.select_related("meeting", "agenda_item"), pk=pk)
    can_edit = scope(request.user, Action, CHANGE).filter(pk=pk).exists()
    return render(request, "workshops/action_detail.html", {
        "action": action, "updates": action.updates.select_related("author").order_by("-date", "-pk"),
        "can_edit": can_edit, "quick_form": forms.ActionQuickForm(initial={"status": action.status}),
        "raid_items": action.raid_items.all(),
    })


@login_required
def action_create(request):
    _require_create(request, Action)
    form = forms.ActionRaiseForm(request.POST or None, initial=request.GET.dict())
    return _save_form(request, form, lambda data: services.action_raise(actor=request.user, **data),
                      title="Raise an action", cancel=reverse("workshops:action_list"))


@login_required
@scoped(Action)
def action_edit(request, pk):
    action = get_scoped_or_404(request.user, Action, CHANGE, pk=pk)
    form = forms.ActionForm(request.POST or None, instance=action)
    return _save_form(request, form, lambda data: services.action_edit(action=action, actor=request.user, **data),
                      title=f"Edit {action.reference}", cancel=action.get_absolute_url(), obj=action)


@login_required
@htmx
@scoped(Action)
def action_quick(request, pk):
    """Status change and/or update from the list (htmx swaps the row) or the detail page."""
    action = get_scoped_or_404(request.user, Action.objects.select_related("meeting"), CHANGE, pk=pk)
    if request.method != "POST":
        return render(request, "workshops/partials/action_row.html", {"action": action, "can_edit": True,
                                                                      "statuses": ActionStatus.choices})
    form = forms.ActionQuickForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            if form.cleaned_data["text"]:
                services.action_update(action=action, text=form.cleaned_data["text"], actor=request.user)
            action = services.action_set_status(action=action, status=form.cleaned_data["status"],
                                                actor=request.user)
        except ValidationError as exc:
            error = "; ".join(exc.messages)
    else:
        error = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
    if request.htmx:
        action = Action.objects.prefetch_related("owners").select_related("meeting").get(pk=action.pk)
        return render(request, "workshops/partials/action_row.html",
                      {"action": action, "can_edit": True, "statuses": ActionStatus.choices, "error": error,
                       "saved": not error}, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{action.reference} updated.")
    return redirect(request.POST.get("next") or action.get_absolute_url())


@login_required
@replica_reads
def action_export(request):
    filterset = ActionFilterSet(request.GET, queryset=selectors.actions_for_list(request.user), request=request)
    fmt = request.GET.get("format", "csv")
    return tabular.export_response("actions", importers.COLUMNS, importers.export_rows(filterset.qs), fmt,
                                   title="Actions")


@login_required
def action_import(request):
    """Upload -> preview -> commit (portal.imports.import_page), with the importer the
    import_actions command uses."""
    _require_create(request, Action)
    return import_page(request, run=importers.run, form_class=forms.ActionImportForm,
                       template="workshops/action_import.html", key="actions",
                       success_url=reverse("workshops:action_list"))


# --- RAID log ------------------------------------------------------------------------------

@login_required
def raid_list(request):
    queryset = scope(request.user, RaidItem).select_related("topic", "originator", "owner")
    filterset = RaidFilterSet(request.GET, queryset=queryset, request=request)
    page, query = _page(request, filterset.qs)
    return render(request, "workshops/raid_list.html", {
        "filter": filterset, "page": page, "query": query, "can_edit": can_create(request.user, RaidItem),
        "topics": scope(request.user, Topic).filter(is_active=True),
        "open_by_topic": {t: n for t, n in _open_by_topic(request.user)},
    })


def _open_by_topic(user):
    from django.db.models import Count

    rows = (scope(user, RaidItem).filter(status__in=RAID_OPEN).values("topic__name").annotate(n=Count("pk"))
            .order_by("topic__name"))
    return [(row["topic__name"], row["n"]) for row in rows]


@login_required
def raid_heatmap(request):
    cells = selectors.open_risk_matrix(request.user)
    return render(request, "workshops/raid_heatmap.html", {"figure": charts.risk_heatmap(cells), "cells": cells,
                                                           "total": sum(len(v) for v in cells.values())})


@login_required
@scoped(RaidItem)
def raid_detail(request, pk):
    item = get_scoped_or_404(request.user, RaidItem.objects.select_related("topic", "originator", "owner"), pk=pk)
    can_edit = scope(request.user, RaidItem, CHANGE).filter(pk=pk).exists()
    return render(request, "workshops/raid_detail.html", {
        "item": item, "can_edit": can_edit,
        "can_answer": (item.status == RaidStatus.CLOSED_AWAITING_ORIGINATOR
                       and services.can_answer_for_originator(request.user, item)),
        "close_form": forms.RaidCloseForm(initial={"resolution": item.resolution}),
        "reject_form": forms.RaidRejectForm(),
    })


@login_required
def raid_create(request):
    _require_create(request, RaidItem)
    form = forms.RaidForm(request.POST or None)
    return _save_form(request, form, lambda data: services.raid_save(actor=request.user, **data),
                      title="New RAID item", cancel=reverse("workshops:raid_list"))


@login_required
@scoped(RaidItem)
def raid_edit(request, pk):
    item = get_scoped_or_404(request.user, RaidItem, CHANGE, pk=pk)
    form = forms.RaidForm(request.POST or None, instance=item)
    return _save_form(request, form, lambda data: services.raid_save(item=item, actor=request.user, **data),
                      title=f"Edit {item.reference}", cancel=item.get_absolute_url(), obj=item)


def _raid_step(request, item, step, success):
    try:
        step()
        messages.success(request, success)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect(item.get_absolute_url())


@login_required
@require_POST
@scoped(RaidItem)
def raid_close(request, pk):
    item = get_scoped_or_404(request.user, RaidItem, CHANGE, pk=pk)
    form = forms.RaidCloseForm(request.POST)
    resolution = form.data.get("resolution", "")
    return _raid_step(request, item, lambda: services.raid_close(item=item, resolution=resolution,
                                                                 actor=request.user),
                      f"{item.reference} sent to {item.originator.code} for confirmation.")


@login_required
@require_POST
@scoped(RaidItem)
def raid_confirm(request, pk):
    # Originators may only view governance data, so find the item with VIEW; the service decides
    # whether this person may answer for the originator.
    item = get_scoped_or_404(request.user, RaidItem, VIEW, pk=pk)
    return _raid_step(request, item, lambda: services.raid_confirm(item=item, actor=request.user),
                      f"{item.reference} closed.")


@login_required
@require_POST
@scoped(RaidItem)
def raid_reject(request, pk):
    item = get_scoped_or_404(request.user, RaidItem, VIEW, pk=pk)
    reason = request.POST.get("reason", "")
    return _raid_step(request, item, lambda: services.raid_reject(item=item, reason=reason, actor=request.user),
                      f"{item.reference} re-opened.")


@login_required
def topic_list(request):
    topics = scope(request.user, Topic).order_by("name")
    form = None
    if can_create(request.user, Topic):
        form = forms.TopicForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.topic_save(actor=request.user, **form.cleaned_data)
            messages.success(request, "Topic added.")
            return redirect("workshops:topic_list")
    return render(request, "workshops/topic_list.html", {"topics": topics, "form": form})


@login_required
@scoped(Topic)
def topic_edit(request, pk):
    topic = get_scoped_or_404(request.user, Topic, CHANGE, pk=pk)
    form = forms.TopicForm(request.POST or None, instance=topic)
    if request.method == "POST" and form.is_valid():
        services.topic_save(topic=topic, actor=request.user, **form.cleaned_data)
        messages.success(request, "Topic saved.")
        return redirect("workshops:topic_list")
    return _form_page(request, form, title=f"Edit topic {topic}", cancel=reverse("workshops:topic_list"), obj=topic)


# --- Documents -----------------------------------------------------------------------------

@login_required
def document_list(request):
    queryset = scope(request.user, Document).select_related("owner")
    filterset = DocumentFilterSet(request.GET, queryset=queryset, request=request)
    page, query = _page(request, filterset.qs)
    groups = sorted(set(scope(request.user, Document).exclude(group="").values_list("group", flat=True)))
    return render(request, "workshops/document_list.html", {"filter": filterset, "page": page, "query": query,
                                                            "groups": groups,
                                                            "can_edit": can_create(request.user, Document)})


@login_required
def document_roadmap(request):
    queryset = scope(request.user, Document).select_related("owner")
    filterset = DocumentFilterSet(request.GET, queryset=queryset, request=request)
    versions = (scope(request.user, DocumentVersion).filter(document__in=filterset.qs)
                .select_related("document", "document__owner", "gating_milestone").order_by("document__name"))
    milestones = scope(request.user, Milestone)
    return render(request, "workshops/roadmap.html", {
        "filter": filterset, "figure": charts.roadmap(versions, milestones, today=timezone.localdate()),
        "versions": versions, "milestones": milestones,
    })


@login_required
@scoped(Document)
def document_detail(request, pk):
    document = get_scoped_or_404(request.user, Document.objects.select_related("owner"), pk=pk)
    can_edit = scope(request.user, Document, CHANGE).filter(pk=pk).exists()
    versions = document.versions.select_related("gating_milestone").prefetch_related("consultations")
    return render(request, "workshops/document_detail.html", {
        "document": document, "versions": versions, "can_edit": can_edit,
        "version_form": forms.VersionForm() if can_edit else None,
    })


@login_required
def document_create(request):
    _require_create(request, Document)
    form = forms.DocumentForm(request.POST or None)
    return _save_form(request, form, lambda data: services.document_save(actor=request.user, **data),
                      title="New document", cancel=reverse("workshops:document_list"))


@login_required
@scoped(Document)
def document_edit(request, pk):
    document = get_scoped_or_404(request.user, Document, CHANGE, pk=pk)
    form = forms.DocumentForm(request.POST or None, instance=document)
    return _save_form(request, form,
                      lambda data: services.document_save(document=document, actor=request.user, **data),
                      title=f"Edit {document}", cancel=document.get_absolute_url(), obj=document)


@login_required
@scoped(Document)
def version_add(request, pk):
    document = get_scoped_or_404(request.user, Document, CHANGE, pk=pk)
    form = forms.VersionForm(request.POST or None)
    return _save_form(request, form,
                      lambda data: services.version_save(document=document, actor=request.user, **data),
                      title=f"New version of {document}", cancel=document.get_absolute_url())


@login_required
@scoped(DocumentVersion)
def version_edit(request, pk):
    version = get_scoped_or_404(request.user, DocumentVersion.objects.select_related("document"), CHANGE, pk=pk)
    form = forms.VersionForm(request.POST or None, instance=version)
    return _save_form(request, form, lambda data: services.version_save(document_version=version, actor=request.user,
                                                                         **data),
                      title=f"Edit {version}", cancel=version.get_absolute_url(), obj=version)


@login_required
def milestone_list(request):
    milestones = scope(request.user, Milestone).prefetch_related("gated_versions__document")
    return render(request, "workshops/milestone_list.html", {"milestones": milestones,
                                                             "can_edit": can_create(request.user, Milestone)})


@login_required
def milestone_create(request):
    _require_create(request, Milestone)
    form = forms.MilestoneForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.milestone_save(actor=request.user, **form.cleaned_data)
        return redirect("workshops:milestone_list")
    return _form_page(request, form, title="New milestone", cancel=reverse("workshops:milestone_list"))


@login_required
@scoped(Milestone)
def milestone_edit(request, pk):
    milestone = get_scoped_or_404(request.user, Milestone, CHANGE, pk=pk)
    form = forms.MilestoneForm(request.POST or None, instance=milestone)
    if request.method == "POST" and form.is_valid():
        services.milestone_save(milestone=milestone, actor=request.user, **form.cleaned_data)
        return redirect("workshops:milestone_list")
    return _form_page(request, form, title=f"Edit {milestone}", cancel=reverse("workshops:milestone_list"),
                      obj=milestone)


# --- Consultations -------------------------------------------------------------------------

@login_required
def consultation_list(request):
    queryset = scope(request.user, Consultation).select_related("version__document")
    filterset = ConsultationFilterSet(request.GET, queryset=queryset, request=request)
    page, query = _page(request, filterset.qs)
    return render(request, "workshops/consultation_list.html", {
        "filter": filterset, "page": page, "query": query, "today": timezone.localdate(),
        "can_edit": can_create(request.user, Consultation)})


@login_required
@scoped(Consultation)
def consultation_detail(request, pk):
    consultation = get_scoped_or_404(request.user, Consultation.objects.select_related("version__document"), pk=pk)
    comments = consultation.comments.select_related("organisation", "author")
    filterset = CommentFilterSet(request.GET, queryset=comments, request=request)
    page, query = _page(request, filterset.qs)
    can_edit = scope(request.user, Consultation, CHANGE).filter(pk=pk).exists()
    comment_form = forms.CommentForm() if services.can_comment(request.user, consultation) else None
    if comment_form is not None and not request.user.is_dcc:
        del comment_form.fields["organisation"]
    summary = selectors.theme_summary(consultation)
    return render(request, "workshops/consultation_detail.html", {
        "consultation": consultation, "filter": filterset, "page": page, "query": query, "can_edit": can_edit,
        "comment_form": comment_form, "summary": summary, "total": sum(n for _, n in summary),
        "figure": charts.theme_bars(summary), "respond_form": forms.CommentRespondForm(),
        "is_open": consultation.is_open(),
    })


@login_required
def consultation_create(request):
    _require_create(request, Consultation)
    form = forms.ConsultationForm(request.POST or None)
    return _save_form(request, form, lambda data: services.consultation_save(actor=request.user, **data),
                      title="New consultation", cancel=reverse("workshops:consultation_list"))


@login_required
@scoped(Consultation)
def consultation_edit(request, pk):
    consultation = get_scoped_or_404(request.user, Consultation, CHANGE, pk=pk)
    form = forms.ConsultationForm(request.POST or None, instance=consultation)
    return _save_form(request, form, lambda data: services.consultation_save(consultation=consultation,
                                                                             actor=request.user, **data),
                      title=f"Edit {consultation}", cancel=consultation.get_absolute_url(), obj=consultation)


@login_required
@require_POST
@scoped(Consultation)
def comment_add(request, pk):
    consultation = get_scoped_or_404(request.user, Consultation, VIEW, pk=pk)
    form = forms.CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Comment not added: " + "; ".join(f"{k}: {' '.join(v)}"
                                                                 for k, v in form.errors.items()))
        return redirect(consultation.get_absolute_url())
    try:
        services.comment_add(consultation=consultation, actor=request.user, **form.cleaned_data)
        messages.success(request, "Comment added.")
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect(consultation.get_absolute_url())


@login_required
@require_POST
@scoped(Comment)
def comment_respond(request, pk):
    comment = get_scoped_or_404(request.user, Comment, CHANGE, pk=pk)
    form = forms.CommentRespondForm(request.POST)
    if form.is_valid():
        services.comment_respond(comment=comment, actor=request.user, **form.cleaned_data)
        messages.success(request, "Response saved.")
    return redirect(comment.get_absolute_url())


MATRIX_COLUMNS = ["id", "organisation", "theme", "section", "comment", "response", "disposition", "received"]


@login_required
@scoped(Consultation)
@replica_reads
def consultation_export(request, pk):
    consultation = get_scoped_or_404(request.user, Consultation, pk=pk)
    comments = CommentFilterSet(request.GET, queryset=consultation.comments.select_related("organisation"),
                                request=request).qs
    rows = [{"id": c.pk, "organisation": c.organisation.code, "theme": c.theme, "section": c.section,
             "comment": c.text, "response": c.response, "disposition": c.disposition,
             "received": timezone.localtime(c.created_at).date()} for c in comments]
    return tabular.export_response(f"comments-{consultation.pk}", MATRIX_COLUMNS, rows,
                                   request.GET.get("format", "csv"), title="Comment matrix")
