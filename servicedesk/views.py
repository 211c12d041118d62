"""Pages of the Incident Management Log: incidents (list, detail, raising, every step of their
life), problems, and the desk's tables (target times, policy). Every page declares its model and
capability (portal.generic); every object comes through scope, so another organisation's incident
is a 404; every write is a call to servicedesk.services, whose ValidationError lands on the form
field it names. Times are shown in UK time."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from portal.access import may
from portal.generic import ObjectDetailView, ObjectEditView, ObjectListView, view_of
from portal.imports import import_page
from portal.scoping import CHANGE, get_scoped_or_404, scope
from portal.selectors import audit_entries
from servicedesk import documents, forms, importers, selectors, services
from servicedesk.choices import OPEN_STATUSES, IncidentStatus, UpdateKind, Visibility, colour
from servicedesk.filtersets import IncidentFilterSet, ProblemFilterSet
from servicedesk.models import (
    ClockPause,
    DeskPolicy,
    Incident,
    IncidentAttachment,
    MajorIncidentReport,
    Problem,
    TargetTime,
)

LONDON = selectors.LONDON


def incident_url(incident: Incident) -> str:
    return incident.get_absolute_url()


def problem_url(problem: Problem) -> str:
    return problem.get_absolute_url()


# --- the clock as a person reads it --------------------------------------------------------

def duration_text(delta: dt.timedelta) -> str:
    """"2d 3h", "4h 05m", "12m": clock time (working time for a working-hours target)."""
    minutes = int(abs(delta).total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


@dataclass(frozen=True)
class ClockCell:
    """One clock of one incident as shown in a list or on its page."""

    due_at: dt.datetime | None
    paused: bool
    stopped: bool
    met: bool | None
    breached: bool
    left: str  # "3h 05m left", "1h 10m over", "paused", "met", "missed"
    working_hours: bool

    @classmethod
    def of(cls, state) -> ClockCell:
        if state.stopped_at is not None:
            left = "met" if state.met else f"missed by {duration_text(state.left)}"
        elif state.paused:
            left = f"paused ({duration_text(state.left)} left)" if not state.breached else "paused (breached)"
        elif state.breached:
            left = f"{duration_text(state.left)} over"
        else:
            left = f"{duration_text(state.left)} left"
        return cls(due_at=state.due_at.astimezone(LONDON) if state.due_at else None, paused=state.paused,
                   stopped=state.stopped_at is not None, met=state.met, breached=state.breached, left=left,
                   working_hours=state.target.working_hours)


@dataclass(frozen=True)
class IncidentRow:
    """An incident where it is listed: the row and its two clocks (servicedesk.selectors.with_clocks)."""

    incident: Incident
    url: str
    status_colour: str
    response: ClockCell
    resolution: ClockCell
    breached: bool


def incident_rows(incidents, *, now: dt.datetime | None = None) -> list[IncidentRow]:
    """Rows with their clocks: the targets read once, the pauses prefetched (with_clocks)."""
    return [IncidentRow(incident=incident, url=incident_url(incident), status_colour=colour(incident.status),
                        response=ClockCell.of(state.response), resolution=ClockCell.of(state.resolution),
                        breached=state.breached)
            for incident, state in selectors.with_clocks(incidents, now=now)]


def _with_pauses(queryset):
    return queryset.prefetch_related(Prefetch("pauses", queryset=ClockPause.objects.order_by("started_at")))


# --- incidents: list, detail, downloads ------------------------------------------------------

class IncidentList(ObjectListView):
    """The Incident Management Log as the person may see it, newest first, keyset-paged."""

    model = Incident
    capability = "servicedesk.incident.view"
    filterset_class = IncidentFilterSet
    pagination = "keyset"
    template_name = "servicedesk/incident_list.html"

    def get_queryset(self):
        return _with_pauses(selectors.incidents_visible(self.request.user))

    def paginate(self, queryset):
        context = super().paginate(queryset)
        context["rows"] = incident_rows(context["rows"])
        context["paged"] = bool(self.request.GET.get(self.keyset_param))
        context["first_url"] = "?" + self.querystring_without(self.keyset_param)
        return context

    def extra_context(self, filterset):
        return {"can_raise": self.may("servicedesk.incident.add"),
                "can_manage": self.may("servicedesk.incident.manage")}


incident_list = IncidentList.as_view()


def _scoped_incident(request, reference, action="view"):
    return get_scoped_or_404(request.user, Incident.objects.select_related(
        "organisation", "raised_by", "logged_by", "resolver", "assignee", "category_set_by", "problem", "repeat_of"),
        action, reference=reference)


_STATUS_LABELS = dict(IncidentStatus.choices)


def _status_label(update):
    """The status a status change moved to, as people read it ("Awaiting user")."""
    if update.kind != UpdateKind.STATUS_CHANGE or not isinstance(update.data, dict):
        return ""
    to = update.data.get("to", "")
    return _STATUS_LABELS.get(to, to) if isinstance(to, str) else ""


@view_of(Incident, "servicedesk.incident.view")
def incident_detail(request, reference):
    incident = _scoped_incident(request, reference)
    user = request.user
    state = selectors.incident_clock(incident)
    can_change = may(user, "servicedesk.incident.change", incident)
    can_manage = can_change and may(user, "servicedesk.incident.manage")
    visible = scope(user, Incident.objects.all())
    # An earlier incident or a repeat of another organisation stays unseen (scope), as do problems
    # (DCC's alone) for anyone else.
    repeat_of = visible.filter(pk=incident.repeat_of_id).first() if incident.repeat_of_id else None
    problem = scope(user, Problem.objects.filter(pk=incident.problem_id)).first() if incident.problem_id else None
    is_open = incident.status in OPEN_STATUSES
    policy = DeskPolicy.current()
    reopen_until = None
    if incident.status == IncidentStatus.RESOLVED and incident.resolved_at:
        reopen_until = services.auto_close_at(incident.resolved_at, policy.auto_close_working_days).astimezone(LONDON)
    context = {
        "incident": incident, "status_colour": colour(incident.status),
        "response": ClockCell.of(state.response), "resolution": ClockCell.of(state.resolution),
        "breached": state.breached, "pauses": list(incident.pauses.all()),
        "timeline": [(u, colour(u.visibility), _status_label(u)) for u in selectors.timeline(user, incident)],
        "attachments": list(scope(user, IncidentAttachment.objects.filter(incident=incident))),
        "references": list(incident.references.all()),
        "affected_items": list(incident.affected_items.order_by("name")),
        "interested_parties": list(incident.interested_parties.order_by("code"))
        if may(user, "servicedesk.incident.manage") else [],
        "follows": not can_change and user.organisation_id is not None
        and incident.interested_parties.filter(pk=user.organisation_id).exists(),
        "repeat_of": repeat_of, "repeats": list(visible.filter(repeat_of=incident).order_by("number")),
        "problem": problem,
        "major_reports": list(scope(user, MajorIncidentReport.objects.filter(incident=incident)).order_by("-version")),
        "can_change": can_change, "can_manage": can_manage, "is_open": is_open,
        "can_write_report": can_manage and incident.is_major and may(user, "servicedesk.majorincidentreport.add"),
        "reopen_until": reopen_until, "raised": incident.raised_at.astimezone(LONDON),
    }
    if can_change:
        # Several forms on one page share field names (note, internal): each its own id prefix,
        # so every label points at its own field (ids unique on the page).
        context["update_form"] = forms.UpdateForm(user=user, auto_id="update_%s")
        context["attach_form"] = forms.AttachForm(user=user, auto_id="attach_%s")
    if can_manage:
        context["assign_form"] = forms.AssignForm(user=user, auto_id="assign_%s",
                                                  initial={"resolver": incident.resolver_id,
                                                           "assignee": incident.assignee_id})
        context["status_form"] = forms.StatusForm(auto_id="status_%s")
        context["category_form"] = forms.CategoryForm(auto_id="category_%s", initial={"category": incident.category})
    return render(request, "servicedesk/incident_detail.html", context)


@view_of(IncidentAttachment, "servicedesk.incidentattachment.view")
def incident_attachment(request, pk):
    """The file, always as a download (never shown inline), with the type found in its content."""
    attachment = get_scoped_or_404(request.user, IncidentAttachment.objects.all(), pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404("The file is missing") from None
    return FileResponse(handle, as_attachment=True, filename=attachment.filename,
                        content_type=attachment.content_type)


@view_of(MajorIncidentReport, "servicedesk.majorincidentreport.view")
def major_report_pdf(request, pk):
    report = get_scoped_or_404(request.user, MajorIncidentReport.objects.select_related("incident", "author"), pk=pk)
    response = HttpResponse(documents.major_report_pdf(report), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{documents.major_report_filename(report)}"'
    return response


@view_of(Incident, "servicedesk.incident.add")
def incident_import(request):
    """Upload -> preview every row -> commit the same file (portal.imports.import_page), each row
    through services.incident_raise (servicedesk.importers)."""
    return import_page(request, run=importers.run, form_class=forms.ImportForm,
                       template="servicedesk/incident_import.html", key="incidents",
                       success_url=reverse("servicedesk:incident_list"),
                       done=lambda preview: f"{len(preview.results)} incident(s) raised.",
                       context={"required": importers.REQUIRED, "optional": importers.OPTIONAL,
                                "can_manage": may(request.user, "servicedesk.incident.manage")})


# --- incidents: raising and every step of their life ----------------------------------------

class DeskEditView(ObjectEditView):
    """The desk's forms: a refused save shows the form again with 400, beside the field named.

    Declared by ``as_view(...)`` besides the model, capability and form: ``title`` (formatted
    with the ``obj``), ``done`` (the flash message, formatted with the ``result``), ``ahead(result)``
    (where a success goes), ``back(obj)`` (the cancel link), ``initial_from`` (the object's fields
    the form starts from) and ``object_name`` (the object's name in the template). Most forms
    build their choices for the person (``form_user``)."""

    invalid_status = 400
    template_name = "form.html"
    title = ""
    done = ""
    form_user = True
    initial_from: tuple[str, ...] = ()
    object_name = "object"
    ahead: Callable[[Any], str] | None = None
    back: Callable[[Any], str] | None = None

    def get_form(self, obj):
        kwargs = self.form_kwargs(obj)
        if self.form_user:
            kwargs["user"] = self.request.user
        return self.form_class(**kwargs)

    def form_kwargs(self, obj):
        kwargs = super().form_kwargs(obj)
        kwargs.pop("instance", None)
        kwargs["initial"] = self.initial(obj)
        return kwargs

    def initial(self, obj):
        return {name: getattr(obj, name) for name in self.initial_from}

    def success_message(self, result, form):
        return self.done.format(result=result) or None

    def success_url(self, result, obj):
        return self.ahead(result) if self.ahead is not None else super().success_url(result, obj)

    def context(self, form, obj):
        return {"form": form, self.object_name: obj, "title": self.title.format(obj=obj),
                "cancel": self.back(obj) if self.back is not None else ""}


class IncidentRaise(DeskEditView):
    def save(self, form, obj):
        return services.incident_raise(actor=self.request.user, **form.arguments())


incident_raise = IncidentRaise.as_view(
    model=Incident, capability="servicedesk.incident.add", form_class=forms.RaiseForm,
    template_name="servicedesk/incident_form.html", title="Raise an incident",
    done="{result.reference} raised: {result.summary}", ahead=incident_url,
    back=lambda _: reverse("servicedesk:incident_list"))


class IncidentAction(DeskEditView):
    """One step of an incident's life on its own page (the incident's page posts its short forms
    here too): the incident is fetched for change through scope (another organisation's, or one
    the person only follows, is a 404), the capability asked (403), the service called.

    Declared by ``as_view(...)``: ``form_class``, ``title``, ``service`` (called as
    ``service(actor=person, incident=incident, **form.cleaned_data)``), ``done`` (the flash
    message, formatted with the service's ``result``), ``initial(incident)`` and ``field_map``
    (a service's field -> the form's); a step whose form says it otherwise overrides ``act``."""

    model = Incident
    capability = "servicedesk.incident.change"
    queryset = Incident.objects.select_related("organisation", "resolver", "assignee")
    template_name = "servicedesk/incident_action.html"
    service_object = "incident"
    multipart = False
    field_map: dict[str, str] = {}
    done = "Saved."

    def get_form(self, obj):
        form = super().get_form(obj)
        form.field_map = self.field_map
        return form

    def save(self, form, incident):
        return self.act(form, incident, form.cleaned_data)

    def act(self, form, incident, data):
        return super().save(form, incident)

    def success_url(self, result, incident):
        return incident_url(incident)

    def context(self, form, incident):
        return {"form": form, "incident": incident, "title": self.title, "multipart": self.multipart,
                "status_colour": colour(incident.status)}


def _visibility(data) -> str:
    return Visibility.INTERNAL if data.get("internal") else Visibility.PARTIES


class UpdateAdd(IncidentAction):
    def act(self, form, incident, data):
        return services.incident_add_update(actor=self.request.user, incident=incident, text=data["text"],
                                            kind=data.get("kind") or UpdateKind.NOTE, visibility=_visibility(data))


class Attach(IncidentAction):
    def act(self, form, incident, data):
        upload = data["file"]
        return services.incident_attach(actor=self.request.user, incident=incident, filename=upload.name,
                                        content=upload.read(), visibility=_visibility(data))


class LinkRepeat(IncidentAction):
    def act(self, form, incident, data):
        return services.incident_link_repeat(actor=self.request.user, incident=incident, earlier=data["repeat_of"])


class FlagMajor(IncidentAction):
    def act(self, form, incident, data):
        return services.incident_flag_major(
            actor=self.request.user, incident=incident, alert_title=data["alert_title"],
            alert_description=data["alert_description"], components=list(data["components"]),
            expected_resolution_at=data["expected_resolution_at"])


def _last_major_report(incident):
    last = incident.major_reports.order_by("-version").first()
    if last is None:
        return {}
    return {name: getattr(last, name) for name in ("summary", "timeline", "impact", "root_cause", "actions")}


MANAGE = "servicedesk.incident.manage"

incident_update = UpdateAdd.as_view(form_class=forms.UpdateForm, title="Add an update", done="Update added.")
incident_request_information = IncidentAction.as_view(
    capability=MANAGE, form_class=forms.TextForm, form_user=False, title="Ask the user for information",
    service=services.incident_request_information,
    done="Information requested: the clock is paused until the user answers.")
incident_answer = IncidentAction.as_view(
    form_class=forms.TextForm, form_user=False, title="Answer DCC's request for information",
    service=services.incident_answer, done="Answer sent: the clock runs again.")
incident_assign = IncidentAction.as_view(
    capability=MANAGE, form_class=forms.AssignForm, title="Assign", service=services.incident_assign,
    done="Assigned.", initial=lambda incident: {"resolver": incident.resolver_id, "assignee": incident.assignee_id})
incident_status = IncidentAction.as_view(
    capability=MANAGE, form_class=forms.StatusForm, form_user=False, title="Set the status",
    service=services.incident_set_status, done="Status changed.")
incident_category = IncidentAction.as_view(
    capability=MANAGE, form_class=forms.CategoryForm, form_user=False, title="Set the category",
    service=services.incident_set_category, done="Category set.",
    initial=lambda incident: {"category": incident.category})
incident_resolve = IncidentAction.as_view(
    capability=MANAGE, form_class=forms.ResolveForm, form_user=False, title="Resolve",
    service=services.incident_resolve, done="Resolved.")
incident_close = IncidentAction.as_view(
    form_class=forms.CloseForm, form_user=False, title="Close", service=services.incident_close, done="Closed.")
incident_reopen = IncidentAction.as_view(
    form_class=forms.ReopenForm, form_user=False, title="Re-open", service=services.incident_reopen,
    done="Re-opened: the clock runs on from where it stopped.")
incident_attach = Attach.as_view(form_class=forms.AttachForm, title="Attach a file", multipart=True,
                                 field_map={"content": "file", "filename": "file"}, done="File attached.")
incident_repeat = LinkRepeat.as_view(
    capability=MANAGE, form_class=forms.RepeatForm, title="Link to an earlier incident", done="Linked as a repeat.",
    initial=lambda incident: {"repeat_of": incident.repeat_of.reference if incident.repeat_of_id else ""})
incident_problem = IncidentAction.as_view(
    capability=MANAGE, form_class=forms.ProblemLinkForm, title="Group under a problem",
    service=services.incident_link_problem, done="Problem link saved.",
    initial=lambda incident: {"problem": incident.problem_id})
incident_parties = IncidentAction.as_view(
    capability=MANAGE, form_class=forms.PartiesForm, title="Interested parties", service=services.incident_set_parties,
    done="Interested parties saved.", field_map={"interested_parties": "parties"},
    initial=lambda incident: {"parties": list(incident.interested_parties.all())})
incident_major = FlagMajor.as_view(
    capability=MANAGE, form_class=forms.MajorForm, title="Flag as a major incident", field_map={"is_major": "confirm"},
    done="Flagged major: service alert {result.reference} is published.")
incident_major_report = IncidentAction.as_view(
    capability="servicedesk.majorincidentreport.add", form_class=forms.MajorReportForm, form_user=False,
    title="Write the major incident report", service=services.major_report_write, field_map={"incident": "summary"},
    done="Version {result.version} of the major incident report saved.", initial=_last_major_report)


# --- problems --------------------------------------------------------------------------------

class ProblemList(ObjectListView):
    model = Problem
    capability = "servicedesk.problem.view"
    filterset_class = ProblemFilterSet
    filterset_takes_request = False
    pagination = "keyset"
    template_name = "servicedesk/problem_list.html"

    def paginate(self, queryset):
        context = super().paginate(queryset)
        context["paged"] = bool(self.request.GET.get(self.keyset_param))
        context["first_url"] = "?" + self.querystring_without(self.keyset_param)
        context["rows"] = [(p, colour(p.status)) for p in context["rows"]]
        return context

    def extra_context(self, filterset):
        return {"can_create": self.may("servicedesk.incident.manage")}


problem_list = ProblemList.as_view()


class ProblemDetail(ObjectDetailView):
    model = Problem
    capability = "servicedesk.problem.view"
    template_name = "servicedesk/problem_detail.html"
    context_object_name = "problem"

    def extra_context(self, problem):
        # with_clocks prefetches the pauses of a queryset itself
        incidents = (scope(self.request.user, Incident.objects.filter(problem=problem))
                     .select_related("organisation", "resolver", "assignee"))
        return {"rows": incident_rows(incidents), "status_colour": colour(problem.status),
                "can_change": self.may("servicedesk.incident.manage")}


problem_detail = ProblemDetail.as_view()


problem_create = DeskEditView.as_view(
    model=Problem, capability="servicedesk.incident.manage", form_class=forms.ProblemCreateForm,
    title="Open a problem record", service=services.problem_create, done="{result.reference} opened.",
    ahead=problem_url, back=lambda _: reverse("servicedesk:problem_list"))
problem_update = DeskEditView.as_view(
    model=Problem, capability="servicedesk.incident.manage", form_class=forms.ProblemUpdateForm, form_user=False,
    initial_from=("root_cause", "fix", "status"), object_name="problem", title="{obj.reference}: root cause and fix",
    service=services.problem_update, done="{result.reference} saved.", ahead=problem_url, back=problem_url)


# --- the desk's tables -----------------------------------------------------------------------

@view_of(TargetTime, "servicedesk.targettime.view")
def target_list(request):
    """The target times per category (shipped defaults until DCC sets them) and their history."""
    user = request.user
    history = audit_entries(user, model_label="servicedesk.targettime")[:100] if may(user, "portal.audit.view_all") \
        else []
    return render(request, "servicedesk/target_list.html", {
        "targets": [row for _category, row in sorted(selectors.targets().items())],
        "can_change": may(user, "servicedesk.targettime.change"), "history": history,
    })


class TargetEdit(DeskEditView):
    """One category's targets. A category whose row is missing (a flushed database) is edited
    from its shipped default."""

    def get_object(self):
        category = self.kwargs["category"]
        row = scope(self.request.user, TargetTime.objects.all(), CHANGE).filter(category=category).first()
        if row is None:
            default = selectors.targets().get(category)
            if default is None or default.pk is not None or not self.may():
                raise Http404("No such category")
            row = default
        return row

    def save(self, form, row):
        return services.target_time_set(actor=self.request.user, category=row.category, **form.cleaned_data)


target_edit = TargetEdit.as_view(
    model=TargetTime, capability="servicedesk.targettime.change", form_class=forms.TargetTimeForm, form_user=False,
    template_name="servicedesk/target_form.html", object_name="row", title="Targets of category {obj.category}",
    initial_from=("response_minutes", "resolution_minutes", "basis", "note"),
    done="Category {result.category} targets saved; open incidents of the category follow.",
    ahead=lambda _: reverse("servicedesk:target_list"), back=lambda _: reverse("servicedesk:target_list"))


class PolicyEdit(ObjectEditView):
    """The desk policy (one row), for DCC administrators, with its history."""

    model = DeskPolicy
    capability = "servicedesk.deskpolicy.change"
    form_class = forms.PolicyForm
    template_name = "servicedesk/policy_form.html"
    invalid_status = 400

    def handle(self, obj):
        return super().handle(DeskPolicy.current())

    def get_form(self, policy):
        return forms.PolicyForm(self.request.POST or None, instance=DeskPolicy.current())

    def save(self, form, policy):
        return services.policy_set(actor=self.request.user, **{name: form.cleaned_data[name]
                                                                for name in forms.PolicyForm.Meta.fields})

    def success_message(self, policy, form):
        return "Desk policy saved."

    def success_url(self, policy, obj):
        return reverse("servicedesk:policy_edit")

    def context(self, form, policy):
        history = audit_entries(self.request.user, model_label="servicedesk.deskpolicy")[:50]
        return {"form": form, "policy": policy, "title": "Service desk policy", "history": history}


policy_edit = PolicyEdit.as_view()
