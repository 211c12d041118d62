"""Pages of the governance registers. Views parse, call a service and render; every queryset passes
portal.scoping.scope, and one object is fetched with get_scoped_or_404 (others' objects are 404)."""
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from portal import tabular
from portal.access import may
from portal.dbrouter import replica_reads
from portal.generic import POST, ObjectDetailView, ObjectEditView, ObjectListView, session_or_token, view_of
from portal.imports import import_page
from portal.pagination import PAGE_SIZE
from portal.scoping import CHANGE, VIEW, get_scoped_or_404, scope
from workshops import charts, forms, importers, models, printing, selectors, services
from workshops.choices import RAID_OPEN, ActionStatus, RaidStatus
from workshops.filtersets import (
    ActionFilterSet,
    CommentFilterSet,
    ConsultationFilterSet,
    DocumentFilterSet,
    MeetingFilterSet,
    RaidFilterSet,
)
from workshops.tables import ConsultationTable, DocumentTable, RaidTable


def _page(request, queryset):
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()


class RegisterList(ObjectListView):
    """A governance register's list: filtered, paged, "can_edit" when the person may add to it."""

    def extra_context(self, filterset):
        return {"can_edit": self.may(f"{self.model._meta.app_label}.{self.model._meta.model_name}.add"),
                **self.more_context()}

    def more_context(self):
        return {}


class RegisterEdit(ObjectEditView):
    """The registers' one form page (workshops/form.html): create on a route without parameters,
    edit the URL's object otherwise, through the register's service. ``list_url`` is where a new
    record's Cancel goes; an edit's Cancel goes back to the record."""

    template_name = "workshops/form.html"
    list_url = ""  # default: the model's list, workshops:<model>_list
    noun = ""  # default: the model's verbose name
    # a create page may be opened with initial values in the query string (?series=3)
    initial_from_query = False
    # a register kept on its list page (topics, milestones): Cancel and Save both go back to it
    kept_on_list = False

    def form_kwargs(self, obj):
        kwargs = super().form_kwargs(obj)
        if obj is None and self.initial_from_query:
            kwargs["initial"] = self.request.GET.dict()
        return kwargs

    def title(self, obj):
        return f"Edit {obj}" if obj is not None else f"New {self.noun or self.model._meta.verbose_name}"

    def cancel(self, obj):
        if obj is not None and not self.kept_on_list:
            return obj.get_absolute_url()
        return self.list_page()

    def list_page(self):
        return reverse(self.list_url or f"workshops:{self.model._meta.model_name}_list")

    def success_url(self, result, obj):
        return self.list_page() if self.kept_on_list else super().success_url(result, obj)

    def context(self, form, obj):
        return {"form": form, "title": self.title(obj), "cancel": self.cancel(obj), "object": obj,
                "multipart": False}


# --- Meetings ------------------------------------------------------------------------------

class MeetingList(RegisterList):
    model = models.Meeting
    capability = "workshops.meeting.view_list"
    queryset = models.Meeting.objects.select_related("series")
    filterset_class = MeetingFilterSet
    template_name = "workshops/meeting_list.html"

    def more_context(self):
        return {"series": scope(self.request.user, models.MeetingSeries)}


meeting_list = MeetingList.as_view()


class SeriesDetail(ObjectDetailView):
    model = models.MeetingSeries
    capability = "workshops.meetingseries.view"
    template_name = "workshops/series_detail.html"
    context_object_name = "series"

    def extra_context(self, series):
        return {"meetings": scope(self.request.user, models.Meeting).filter(series=series).order_by("-date")}


series_detail = SeriesDetail.as_view()


class SeriesEdit(RegisterEdit):
    model = models.MeetingSeries
    capability = "workshops.meetingseries.add"
    form_class = forms.SeriesForm
    list_url = "workshops:meeting_list"
    service = services.series_save


series_create = SeriesEdit.as_view()


@view_of(models.Meeting, "workshops.meeting.view")
def meeting_detail(request, pk):
    meeting = get_scoped_or_404(request.user, models.Meeting.objects.select_related("series"), pk=pk)
    can_edit = scope(request.user, models.Meeting, CHANGE).filter(pk=pk).exists()
    return render(request, "workshops/meeting_detail.html", {
        "meeting": meeting, "agenda": selectors.meeting_with_agenda(meeting),
        "actions": meeting.actions.prefetch_related("owners").order_by("reference"), "can_edit": can_edit,
        "agenda_form": forms.AgendaItemForm() if can_edit else None,
        "outcome_form": forms.OutcomeForm() if can_edit else None,
        "action_form": forms.ActionForm() if can_edit else None,
    })


class MeetingEdit(RegisterEdit):
    model = models.Meeting
    form_class = forms.MeetingForm
    initial_from_query = True
    service = services.meeting_save


meeting_create, meeting_edit = MeetingEdit.create_and_edit()


def _form_errors(form):
    return "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())


def _add_from_page(request, form, add, done, not_done, page):
    """A form posted from a record's page (an agenda item, an action, a comment): the service
    ``add(cleaned_data)``, then back to the page with one message: ``done(result)``, or
    ``not_done`` and the form's errors, or the service's refusal."""
    if not form.is_valid():
        messages.error(request, f"{not_done}: {_form_errors(form)}")
        return redirect(page)
    try:
        result = add(form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, done(result))
    return redirect(page)


@view_of(models.Meeting, "workshops.meeting.change", methods=POST)
def agenda_item_add(request, pk):
    meeting = get_scoped_or_404(request.user, models.Meeting, CHANGE, pk=pk)
    return _add_from_page(
        request, forms.AgendaItemForm(request.POST),
        lambda data: services.agenda_item_save(meeting=meeting, actor=request.user, **data),
        lambda item: "Agenda item added.", "Agenda item not added", meeting.get_absolute_url())


class AgendaItemEdit(RegisterEdit):
    model = models.AgendaItem
    capability = "workshops.agendaitem.change"
    queryset = models.AgendaItem.objects.select_related("meeting")
    form_class = forms.AgendaItemForm
    service = services.agenda_item_save
    service_object = "item"

    def title(self, item):
        return f"Edit agenda item {item}"


agenda_item_edit = AgendaItemEdit.as_view()


@view_of(models.AgendaItem, "workshops.agendaitem.change", methods=POST)
def agenda_outcome_add(request, pk):
    item = get_scoped_or_404(request.user, models.AgendaItem.objects.select_related("meeting"), CHANGE, pk=pk)
    form = forms.OutcomeForm(request.POST)
    if form.is_valid():
        services.agenda_outcome_add(agenda_item=item, actor=request.user, **form.cleaned_data)
        messages.success(request, "Outcome recorded.")
    else:
        messages.error(request, "Outcome not recorded: give its kind and text.")
    return redirect(item.get_absolute_url())


@view_of(models.AgendaItem, "workshops.agendaitem.change", methods=POST)
def agenda_action_raise(request, pk):
    item = get_scoped_or_404(request.user, models.AgendaItem.objects.select_related("meeting__series"), CHANGE, pk=pk)
    return _add_from_page(
        request, forms.ActionForm(request.POST),
        lambda data: services.action_raise(meeting=item.meeting, agenda_item=item, actor=request.user, **data),
        lambda action: f"Action {action.reference} raised.", "Action not raised", item.get_absolute_url())


@view_of(models.Meeting, "workshops.meeting.view")
def meeting_print(request, pk):
    meeting = get_scoped_or_404(request.user, models.Meeting.objects.select_related("series"), pk=pk)
    return HttpResponse(printing.meeting_html(meeting, minutes=request.GET.get("minutes") == "1"))


@view_of(models.Meeting, "workshops.meeting.view")
def meeting_pdf(request, pk):
    meeting = get_scoped_or_404(request.user, models.Meeting.objects.select_related("series"), pk=pk)
    minutes = request.GET.get("minutes") == "1"
    response = HttpResponse(printing.meeting_pdf(meeting, minutes=minutes), content_type="application/pdf")
    kind = "minutes" if minutes else "agenda"
    response["Content-Disposition"] = f'inline; filename="{meeting.series.code}-{meeting.number}-{kind}.pdf"'
    return response


@view_of(models.Meeting, "workshops.meeting.view")
def meeting_ics(request, pk):
    meeting = get_scoped_or_404(request.user, models.Meeting.objects.select_related("series"), pk=pk)
    response = HttpResponse(printing.calendar_bytes([meeting], name=str(meeting)),
                            content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{meeting.series.code}-{meeting.number}.ics"'
    return response


@view_of(models.MeetingSeries, "workshops.meetingseries.view", authenticate=session_or_token)
def series_feed(request, pk):
    """Subscribable calendar of a series (session or ``?token=``)."""
    user = request.user
    series = get_scoped_or_404(user, models.MeetingSeries, pk=pk)
    meetings = scope(user, models.Meeting).filter(series=series).select_related("series").order_by("date")
    return HttpResponse(printing.calendar_bytes(meetings, name=series.name),
                        content_type="text/calendar; charset=utf-8")


# --- Actions -------------------------------------------------------------------------------

class ActionList(RegisterList):
    model = models.Action
    capability = "workshops.action.view_list"
    filterset_class = ActionFilterSet
    template_name = "workshops/action_list.html"

    def get_queryset(self):
        return selectors.actions_for_list(self.request.user)

    def more_context(self):
        return {"statuses": ActionStatus.choices, "today": timezone.localdate()}


action_list = ActionList.as_view()


@view_of(models.Action, "workshops.action.view_list")
def action_mine(request):
    query = request.GET.copy()
    query["mine"] = "true"
    return redirect(reverse("workshops:action_list") + "?" + query.urlencode())


@view_of(models.Action, "workshops.action.view")
def action_detail(request, pk):
    action = get_scoped_or_404(request.user, models.Action.objects.select_related("meeting", "agenda_item"), pk=pk)
    can_edit = scope(request.user, models.Action, CHANGE).filter(pk=pk).exists()
    return render(request, "workshops/action_detail.html", {
        "action": action, "updates": action.updates.select_related("author").order_by("-date", "-pk"),
        "can_edit": can_edit, "quick_form": forms.ActionQuickForm(initial={"status": action.status}),
        "raid_items": action.raid_items.all(),
    })


class ActionEdit(RegisterEdit):
    model = models.Action
    initial_from_query = True

    def title(self, action):
        return f"Edit {action.reference}" if action is not None else "Raise an action"

    def save(self, form, action):
        if action is None:
            return services.action_raise(actor=self.request.user, **form.cleaned_data)
        return services.action_edit(action=action, actor=self.request.user, **form.cleaned_data)


action_create = ActionEdit.as_view(capability="workshops.action.add", form_class=forms.ActionRaiseForm)
action_edit = ActionEdit.as_view(capability="workshops.action.change", form_class=forms.ActionForm)


@view_of(models.Action, "workshops.action.change")
def action_quick(request, pk):
    """Status change and/or update from the list (htmx swaps the row) or the detail page."""
    action = get_scoped_or_404(request.user, models.Action.objects.select_related("meeting"), CHANGE, pk=pk)
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
        error = _form_errors(form)
    if request.htmx:
        action = models.Action.objects.prefetch_related("owners").select_related("meeting").get(pk=action.pk)
        return render(request, "workshops/partials/action_row.html",
                      {"action": action, "can_edit": True, "statuses": ActionStatus.choices, "error": error,
                       "saved": not error}, status=422 if error else 200)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, f"{action.reference} updated.")
    return redirect(request.POST.get("next") or action.get_absolute_url())


@view_of(models.Action, "workshops.action.view_list")
@replica_reads
def action_export(request):
    filterset = ActionFilterSet(request.GET, queryset=selectors.actions_for_list(request.user), request=request)
    fmt = request.GET.get("format", "csv")
    return tabular.export_response("actions", importers.COLUMNS, importers.export_rows(filterset.qs), fmt,
                                   title="Actions")


@view_of(models.Action, "workshops.action.add")
def action_import(request):
    """Upload -> preview -> commit (portal.imports.import_page), with the importer the
    import_actions command uses."""
    return import_page(request, run=importers.run, form_class=forms.ActionImportForm,
                       template="workshops/action_import.html", key="actions",
                       success_url=reverse("workshops:action_list"))


# --- RAID log ------------------------------------------------------------------------------

class RaidList(RegisterList):
    model = models.RaidItem
    capability = "workshops.raiditem.view_list"
    queryset = models.RaidItem.objects.select_related("topic", "originator", "owner")
    filterset_class = RaidFilterSet
    template_name = "workshops/raid_list.html"
    table_class = RaidTable
    export_name = "raid-log"

    def more_context(self):
        user = self.request.user
        return {"topics": scope(user, models.Topic).filter(is_active=True),
                "open_by_topic": {t: n for t, n in _open_by_topic(user)}}


raid_list = RaidList.as_view()


def _open_by_topic(user):
    from django.db.models import Count

    rows = (scope(user, models.RaidItem).filter(status__in=RAID_OPEN).values("topic__name").annotate(n=Count("pk"))
            .order_by("topic__name"))
    return [(row["topic__name"], row["n"]) for row in rows]


@view_of(models.RaidItem, "workshops.raiditem.view_list")
def raid_heatmap(request):
    cells = selectors.open_risk_matrix(request.user)
    return render(request, "workshops/raid_heatmap.html", {"figure": charts.risk_heatmap(cells), "cells": cells,
                                                           "total": sum(len(v) for v in cells.values())})


@view_of(models.RaidItem, "workshops.raiditem.view")
def raid_detail(request, pk):
    item = get_scoped_or_404(request.user, models.RaidItem.objects.select_related("topic", "originator", "owner"),
                             pk=pk)
    can_edit = scope(request.user, models.RaidItem, CHANGE).filter(pk=pk).exists()
    return render(request, "workshops/raid_detail.html", {
        "item": item, "can_edit": can_edit,
        "can_answer": (item.status == RaidStatus.CLOSED_AWAITING_ORIGINATOR
                       and services.can_answer_for_originator(request.user, item)),
        "close_form": forms.RaidCloseForm(initial={"resolution": item.resolution}),
        "reject_form": forms.RaidRejectForm(),
        "originator_told": selectors.originator_listeners(item) if can_edit else [],
    })


class RaidEdit(RegisterEdit):
    model = models.RaidItem
    form_class = forms.RaidForm
    list_url = "workshops:raid_list"
    service = services.raid_save
    service_object = "item"

    def title(self, item):
        return f"Edit {item.reference}" if item is not None else "New RAID item"


raid_create, raid_edit = RaidEdit.create_and_edit()


def _raid_step(request, item, step, success):
    try:
        step()
        messages.success(request, success)
    except ValidationError as exc:
        messages.error(request, "; ".join(exc.messages))
    return redirect(item.get_absolute_url())


@view_of(models.RaidItem, "workshops.raiditem.change", methods=POST)
def raid_close(request, pk):
    item = get_scoped_or_404(request.user, models.RaidItem, CHANGE, pk=pk)
    form = forms.RaidCloseForm(request.POST)
    resolution = form.data.get("resolution", "")
    return _raid_step(request, item, lambda: services.raid_close(item=item, resolution=resolution,
                                                                 actor=request.user),
                      f"{item.reference} sent to {item.originator.code} for confirmation.")


@view_of(models.RaidItem, "workshops.raiditem.view", methods=POST)
def raid_confirm(request, pk):
    # Originators may only view governance data, so find the item with VIEW; the service decides
    # whether this person may answer for the originator.
    item = get_scoped_or_404(request.user, models.RaidItem, VIEW, pk=pk)
    return _raid_step(request, item, lambda: services.raid_confirm(item=item, actor=request.user),
                      f"{item.reference} closed.")


@view_of(models.RaidItem, "workshops.raiditem.view", methods=POST)
def raid_reject(request, pk):
    item = get_scoped_or_404(request.user, models.RaidItem, VIEW, pk=pk)
    reason = request.POST.get("reason", "")
    return _raid_step(request, item, lambda: services.raid_reject(item=item, reason=reason, actor=request.user),
                      f"{item.reference} re-opened.")


@view_of(models.Topic, "workshops.topic.view_list")
def topic_list(request):
    topics = scope(request.user, models.Topic).order_by("name")
    form = None
    if may(request.user, "workshops.topic.add"):
        form = forms.TopicForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            services.topic_save(actor=request.user, **form.cleaned_data)
            messages.success(request, "Topic added.")
            return redirect("workshops:topic_list")
    return render(request, "workshops/topic_list.html", {"topics": topics, "form": form})


class TopicEdit(RegisterEdit):
    """Topics are edited from their list, and go back to it."""

    model = models.Topic
    capability = "workshops.topic.change"
    form_class = forms.TopicForm
    service = services.topic_save
    kept_on_list = True

    def title(self, topic):
        return f"Edit topic {topic}"

    def success_message(self, topic, form):
        return "Topic saved."


topic_edit = TopicEdit.as_view()


# --- Documents -----------------------------------------------------------------------------

class DocumentList(RegisterList):
    model = models.Document
    capability = "workshops.document.view_list"
    queryset = models.Document.objects.select_related("owner")
    filterset_class = DocumentFilterSet
    template_name = "workshops/document_list.html"
    table_class = DocumentTable
    export_name = "documents"

    def more_context(self):
        documents = scope(self.request.user, models.Document)
        return {"groups": sorted(set(documents.exclude(group="").values_list("group", flat=True)))}


document_list = DocumentList.as_view()


@view_of(models.Document, "workshops.document.view_list")
def document_roadmap(request):
    queryset = scope(request.user, models.Document).select_related("owner")
    filterset = DocumentFilterSet(request.GET, queryset=queryset, request=request)
    versions = (scope(request.user, models.DocumentVersion).filter(document__in=filterset.qs)
                .select_related("document", "document__owner", "gating_milestone").order_by("document__name"))
    milestones = scope(request.user, models.Milestone)
    return render(request, "workshops/roadmap.html", {
        "filter": filterset, "figure": charts.roadmap(versions, milestones, today=timezone.localdate()),
        "versions": versions, "milestones": milestones,
    })


@view_of(models.Document, "workshops.document.view")
def document_detail(request, pk):
    document = get_scoped_or_404(request.user, models.Document.objects.select_related("owner"), pk=pk)
    can_edit = scope(request.user, models.Document, CHANGE).filter(pk=pk).exists()
    versions = document.versions.select_related("gating_milestone").prefetch_related("consultations")
    return render(request, "workshops/document_detail.html", {
        "document": document, "versions": versions, "can_edit": can_edit,
        "version_form": forms.VersionForm() if can_edit else None,
    })


class DocumentEdit(RegisterEdit):
    model = models.Document
    form_class = forms.DocumentForm
    service = services.document_save


document_create, document_edit = DocumentEdit.create_and_edit()


class VersionAdd(RegisterEdit):
    """A new version of the URL's document (adding one changes the document)."""

    model = models.Document
    capability = "workshops.document.change"
    form_class = forms.VersionForm
    service = services.version_save

    def get_form(self, document):
        return forms.VersionForm(self.request.POST or None)

    def title(self, document):
        return f"New version of {document}"

    def context(self, form, document):
        return {**super().context(form, document), "object": None}


class VersionEdit(RegisterEdit):
    model = models.DocumentVersion
    capability = "workshops.documentversion.change"
    queryset = models.DocumentVersion.objects.select_related("document")
    form_class = forms.VersionForm
    service = services.version_save
    service_object = "document_version"


version_add = VersionAdd.as_view()
version_edit = VersionEdit.as_view()


@view_of(models.Milestone, "workshops.milestone.view_list")
def milestone_list(request):
    milestones = scope(request.user, models.Milestone).prefetch_related("gated_versions__document")
    return render(request, "workshops/milestone_list.html", {"milestones": milestones,
                                                             "can_edit": may(request.user, "workshops.milestone.add")})


class MilestoneEdit(RegisterEdit):
    """Milestones are kept on their list: both Cancel and Save go back to it, without a message."""

    model = models.Milestone
    form_class = forms.MilestoneForm
    service = services.milestone_save
    kept_on_list = True

    def success_message(self, milestone, form):
        return None


milestone_create, milestone_edit = MilestoneEdit.create_and_edit()


# --- Consultations -------------------------------------------------------------------------

class ConsultationList(RegisterList):
    model = models.Consultation
    capability = "workshops.consultation.view_list"
    queryset = models.Consultation.objects.select_related("version__document")
    filterset_class = ConsultationFilterSet
    template_name = "workshops/consultation_list.html"
    table_class = ConsultationTable
    export_name = "consultations"

    def more_context(self):
        return {"today": timezone.localdate()}


consultation_list = ConsultationList.as_view()


@view_of(models.Consultation, "workshops.consultation.view")
def consultation_detail(request, pk):
    consultation = get_scoped_or_404(request.user, models.Consultation.objects.select_related("version__document"),
                                     pk=pk)
    comments = consultation.comments.select_related("organisation", "author")
    filterset = CommentFilterSet(request.GET, queryset=comments, request=request)
    page, query = _page(request, filterset.qs)
    can_edit = scope(request.user, models.Consultation, CHANGE).filter(pk=pk).exists()
    comment_form = forms.CommentForm() if services.can_comment(request.user, consultation) else None
    if comment_form is not None and not may(request.user, "workshops.comment.add_for_any_organisation"):
        del comment_form.fields["organisation"]
    summary = selectors.theme_summary(consultation)
    return render(request, "workshops/consultation_detail.html", {
        "consultation": consultation, "filter": filterset, "page": page, "query": query, "can_edit": can_edit,
        "comment_form": comment_form, "summary": summary, "total": sum(n for _, n in summary),
        "figure": charts.theme_bars(summary), "respond_form": forms.CommentRespondForm(),
        "is_open": consultation.is_open(),
    })


class ConsultationEdit(RegisterEdit):
    model = models.Consultation
    form_class = forms.ConsultationForm
    service = services.consultation_save


consultation_create, consultation_edit = ConsultationEdit.create_and_edit()


@view_of(models.Consultation, "workshops.consultation.view", methods=POST)
def comment_add(request, pk):
    consultation = get_scoped_or_404(request.user, models.Consultation, VIEW, pk=pk)
    return _add_from_page(
        request, forms.CommentForm(request.POST),
        lambda data: services.comment_add(consultation=consultation, actor=request.user, **data),
        lambda comment: "Comment added.", "Comment not added", consultation.get_absolute_url())


@view_of(models.Comment, "workshops.comment.change", methods=POST)
def comment_respond(request, pk):
    comment = get_scoped_or_404(request.user, models.Comment, CHANGE, pk=pk)
    form = forms.CommentRespondForm(request.POST)
    if form.is_valid():
        services.comment_respond(comment=comment, actor=request.user, **form.cleaned_data)
        messages.success(request, "Response saved.")
    return redirect(comment.get_absolute_url())


MATRIX_COLUMNS = ["id", "organisation", "theme", "section", "comment", "response", "disposition", "received"]


@view_of(models.Consultation, "workshops.consultation.view")
@replica_reads
def consultation_export(request, pk):
    consultation = get_scoped_or_404(request.user, models.Consultation, pk=pk)
    comments = CommentFilterSet(request.GET, queryset=consultation.comments.select_related("organisation"),
                                request=request).qs
    rows = ({"id": c.pk, "organisation": c.organisation.code, "theme": c.theme, "section": c.section,
             "comment": c.text, "response": c.response, "disposition": c.disposition,
             "received": timezone.localtime(c.created_at).date()} for c in comments.iterator(chunk_size=2000))
    return tabular.export_response(f"comments-{consultation.pk}", MATRIX_COLUMNS, rows,
                                   request.GET.get("format", "csv"), title="Comment matrix")
