"""REST API of the service desk: incidents (raise, follow, and every step of their life through
servicedesk.services), incident import, attachments, major incident reports, problems, service
components, service alerts, planned maintenance, the target times and desk policy, usage
forecasts, the self-service reports and their monthly deliveries.

Who sees what is the scoping table's (portal.api viewsets, portal.scoping.scope): a supplier
sees the incidents it raised or is an interested party of (others answer 404), SDAG members
none, DCC all; an action that changes an incident finds only what the person may change, so an
interested party can follow an incident but never act on it. Which actions a person may take is
the services' ``require`` (403). Bodies are parsed by servicedesk.serializers, which bound every
field, so a refusal is a 400 naming the field; nothing is written until a service accepts it.
Nothing here is deleted: incidents are closed, alerts closed, maintenance cancelled.
"""
import datetime as dt
import io
import itertools
from pathlib import PurePosixPath

import django_filters
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.http import FileResponse, Http404
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from inventory.models import ConfigurationItem
from portal.access import may
from portal.api import ScopedViewSetMixin
from portal.choices import OrganisationKind, Region
from portal.ids import normalise_eui64
from portal.models import Organisation, User
from portal.pagination import KeysetPagination, StandardPagination
from portal.parsers import JSONParser
from portal.scoping import VIEW, allows, scope
from servicedesk import documents, importers, models, reports, selectors, services
from servicedesk import serializers as s
from servicedesk.choices import (
    OPEN_STATUSES,
    Channel,
    IncidentCategory,
    IncidentStatus,
    ReportKind,
)
from servicedesk.filtersets import breached_q

# --- shared pieces ---------------------------------------------------------------------------


class DownloadNegotiation(BaseContentNegotiation):
    """A download answers its file whatever the client accepts, and any error as JSON (as the
    schema documents): the file is a Django response, so no renderer of its type is needed."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


DOWNLOAD = {"renderer_classes": [JSONRenderer], "content_negotiation_class": DownloadNegotiation,
            "pagination_class": None, "filter_backends": []}


# References and keys may be anything but a slash in the path: DRF's default also stops at a dot,
# and a path the URLconf does not match answers Django's HTML 404 instead of the API's JSON one.
LOOKUP = r"[^/]+"


def _download(content_or_file, filename, content_type):
    """A file, always as an attachment: nothing uploaded is ever shown inline by the browser."""
    response = FileResponse(content_or_file, as_attachment=True, filename=filename, content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _one(queryset, field, value, what):
    """The one row of ``queryset`` named by ``value``, or 400 naming ``field`` (the queryset is
    already the person's scope, so another organisation's record is as unknown as a typo)."""
    found = queryset.filter(**what).first() if value not in (None, "") else None
    if found is None:
        raise ValidationError({field: [f"unknown {field.replace('_', ' ')} {value!r}"]})
    return found


def _organisation(user, code, field="organisation"):
    return _one(scope(user, Organisation.objects.all(), VIEW), field, code, {"code": str(code).strip().upper()})


def _organisations(user, codes, field):
    return [_organisation(user, code, field) for code in dict.fromkeys(codes)]


def _person(user, username, field):
    return _one(scope(user, User.objects.filter(is_active=True), VIEW), field, username, {"username": username})


def _components(user, keys, field="components"):
    return [_one(scope(user, models.ServiceComponent.objects.all(), VIEW), field, key, {"key": key})
            for key in dict.fromkeys(keys)]


def _items(user, keys):
    return [_one(scope(user, ConfigurationItem.objects.all(), VIEW), "affected_items", key, {"key": key})
            for key in dict.fromkeys(keys)]


def _body(serializer_class, request, **kwargs):
    body = serializer_class(data=request.data, **kwargs)
    body.is_valid(raise_exception=True)
    return body.validated_data


# --- incidents -------------------------------------------------------------------------------

class IncidentApiFilterSet(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=IncidentStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=IncidentCategory.choices)
    resolver = django_filters.CharFilter(method="filter_resolver", max_length=20,
                                         help_text="Organisation code of the resolver (DCC, DSP, a CSP...)")
    breached = django_filters.BooleanFilter(method="filter_breached",
                                            help_text="Past a response or resolution due time")
    open = django_filters.BooleanFilter(method="filter_open", help_text="Not resolved or closed")
    major = django_filters.BooleanFilter(field_name="is_major")
    reference = django_filters.CharFilter(method="filter_reference", max_length=80,
                                          help_text="The incident's reference, or a device EUI-64 or request id "
                                                    "it names")
    device = django_filters.CharFilter(method="filter_device", max_length=40, help_text="EUI-64 of a device it affects")
    service_request = django_filters.CharFilter(method="filter_request", max_length=80,
                                                help_text="Request id of a service request it affects")

    class Meta:
        model = models.Incident
        fields = ["status", "category", "resolver", "breached", "open", "major", "reference", "device",
                  "service_request"]

    def filter_resolver(self, queryset, name, value):
        return queryset.filter(resolver__code=value.strip().upper()) if value.strip() else queryset

    def filter_breached(self, queryset, name, value):
        if value is None:
            return queryset
        condition = breached_q(timezone.now())
        return queryset.filter(condition) if value else queryset.exclude(condition)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(status__in=OPEN_STATUSES) if value else queryset.exclude(status__in=OPEN_STATUSES)

    def filter_reference(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        keys = {value}
        try:
            keys.add(normalise_eui64(value))
        except DjangoValidationError:
            pass
        named = models.IncidentReference.objects.filter(incident=OuterRef("pk"), value__in=keys)
        return queryset.filter(Q(reference__iexact=value) | Exists(named))

    def filter_device(self, queryset, name, value):
        try:
            device = normalise_eui64(value, field="device")
        except DjangoValidationError as exc:
            raise ValidationError({"device": exc.messages})
        return queryset.filter(Exists(models.IncidentReference.objects.filter(
            incident=OuterRef("pk"), kind=models.IncidentReference.Kind.DEVICE, value=device)))

    def filter_request(self, queryset, name, value):
        text = value.strip()
        if not text or any(c.isspace() for c in text):
            raise ValidationError({"service_request": [f"{value!r} is not a request id (no spaces)"]})
        return queryset.filter(Exists(models.IncidentReference.objects.filter(
            incident=OuterRef("pk"), kind=models.IncidentReference.Kind.SERVICE_REQUEST, value=text)))


def _incident_detail_for(user, incident):
    """The incident again, with what ``user`` may see of its timeline, files and reports."""
    incident = (models.Incident.objects.select_related("organisation", "resolver", "assignee", "raised_by", "logged_by",
                                                "repeat_of", "problem")
                .prefetch_related("references", "affected_items", "interested_parties", "pauses")
                .get(pk=incident.pk))
    context = {
        "timeline": list(selectors.timeline(user, incident)),
        "attachments": list(scope(user, models.IncidentAttachment.objects.filter(incident=incident)
                                  .select_related("incident", "uploaded_by"), VIEW)),
        "reports": list(scope(user, models.MajorIncidentReport.objects.filter(incident=incident)
                              .select_related("incident", "author").order_by("version"), VIEW)),
    }
    return incident, context


INCIDENT_ACTION = {"responses": s.IncidentDetailSerializer}


class IncidentViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, viewsets.GenericViewSet):
    """The Incident Management Log. A supplier sees the incidents it raised or is an interested
    party of; DCC all. POST raises one (DCC may log it on behalf of an organisation and a person
    or caller); each step of its life is a POST to one of its actions, which calls the service.
    Lists carry each incident's clock (due times, time left, breached)."""

    queryset = models.Incident.objects.select_related("organisation", "resolver", "assignee", "raised_by", "repeat_of",
                                               "problem")
    serializer_class = s.IncidentSerializer
    filterset_class = IncidentApiFilterSet
    pagination_class = KeysetPagination  # the log grows without bound: a cursor, stable under new incidents
    ordering_fields = ["number", "raised_at", "category", "status", "updated_at"]
    lookup_field = "reference"
    lookup_value_regex = LOOKUP
    parser_classes = [JSONParser]

    def get_serializer_class(self):
        return s.IncidentDetailSerializer if self.action != "list" else s.IncidentSerializer

    def _detail(self, incident, code=status.HTTP_200_OK):
        incident, context = _incident_detail_for(self.request.user, incident)
        context.update(self.get_serializer_context())
        return Response(s.IncidentDetailSerializer(incident, context=context).data, status=code)

    def list(self, request, *args, **kwargs):
        # The pauses come with the page (one query), so each row's clock costs no query of its own.
        pauses = Prefetch("pauses", queryset=models.ClockPause.objects.order_by("started_at", "id"))
        queryset = self.filter_queryset(self.get_queryset()).prefetch_related(pauses)
        page = self.paginate_queryset(queryset)
        clocks = {incident.pk: clock for incident, clock in selectors.with_clocks(list(page))}
        context = {**self.get_serializer_context(), "clocks": clocks}
        return self.get_paginated_response(s.IncidentSerializer(page, many=True, context=context).data)

    def retrieve(self, request, *args, **kwargs):
        return self._detail(self.get_object())

    @extend_schema(request=s.IncidentRaiseSerializer, responses={201: s.IncidentDetailSerializer})
    def create(self, request, *args, **kwargs):
        data = _body(s.IncidentRaiseSerializer, request)
        user = request.user
        organisation = _organisation(user, data["organisation"]) if data["organisation"] else user.organisation
        if organisation is None:
            raise ValidationError({"organisation": ["say which organisation the incident is for"]})
        raised_by = None
        if data["raised_by"]:
            raised_by = _person(user, data["raised_by"], "raised_by")
        incident = services.incident_raise(
            actor=user, summary=data["summary"], description=data["description"],
            proposed_category=int(data["proposed_category"]), organisation=organisation, raised_by=raised_by,
            caller=data["caller"], channel=Channel.API, affected_items=_items(user, data["affected_items"]),
            devices=data["devices"], service_requests=data["service_requests"], regions=data["regions"],
            interested_parties=_organisations(user, data["interested_parties"], "interested_parties"))
        return self._detail(incident, status.HTTP_201_CREATED)

    # Every action finds the incident first (404 for one the person may not change), then reads the body.

    @extend_schema(request=s.IncidentNoteSerializer, responses={201: s.TimelineEntrySerializer})
    @action(detail=True, methods=["post"])
    def updates(self, request, reference=None):
        """A note (or, DCC, a workaround or an internal note) on the timeline."""
        incident = self.get_object()
        data = _body(s.IncidentNoteSerializer, request)
        update = services.incident_add_update(actor=request.user, incident=incident, **data)
        return Response(s.TimelineEntrySerializer(update).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentTextSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"], url_path="request-information")
    def request_information(self, request, reference=None):
        """DCC asks the user for information: the clock stops until they answer."""
        incident = self.get_object()
        data = _body(s.IncidentTextSerializer, request)
        return self._detail(services.incident_request_information(actor=request.user, incident=incident, **data))

    @extend_schema(request=s.IncidentTextSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"])
    def answer(self, request, reference=None):
        """The user answers DCC's request for information: the clock runs again."""
        incident = self.get_object()
        data = _body(s.IncidentTextSerializer, request)
        return self._detail(services.incident_answer(actor=request.user, incident=incident, **data))

    @extend_schema(request=s.IncidentAssignSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"])
    def assign(self, request, reference=None):
        """DCC allocates the resolver and, optionally, the person working on it."""
        incident = self.get_object()
        data = _body(s.IncidentAssignSerializer, request)
        if not may(request.user, "servicedesk.incident.manage", incident):
            raise PermissionDenied("Only DCC assigns incidents.")
        resolver = _organisation(request.user, data["resolver"], "resolver")
        assignee = _person(request.user, data["assignee"], "assignee") if data["assignee"] else None
        return self._detail(services.incident_assign(actor=request.user, incident=incident, resolver=resolver,
                                                     assignee=assignee, note=data["note"]))

    @extend_schema(request=s.IncidentStatusSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, reference=None):
        """DCC moves an open incident between assigned and in progress."""
        incident = self.get_object()
        data = _body(s.IncidentStatusSerializer, request)
        return self._detail(services.incident_set_status(actor=request.user, incident=incident, **data))

    @extend_schema(request=s.IncidentCategorySerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"])
    def category(self, request, reference=None):
        """DCC sets or changes the category, with a reason."""
        incident = self.get_object()
        data = _body(s.IncidentCategorySerializer, request)
        return self._detail(services.incident_set_category(actor=request.user, incident=incident,
                                                           category=int(data["category"]), reason=data["reason"]))

    @extend_schema(request=s.IncidentResolveSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"])
    def resolve(self, request, reference=None):
        incident = self.get_object()
        data = _body(s.IncidentResolveSerializer, request)
        return self._detail(services.incident_resolve(actor=request.user, incident=incident, **data))

    @extend_schema(request=s.IncidentCloseSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"])
    def close(self, request, reference=None):
        """The raiser confirms a resolved incident (or DCC closes it)."""
        incident = self.get_object()
        data = _body(s.IncidentCloseSerializer, request)
        return self._detail(services.incident_close(actor=request.user, incident=incident, **data))

    @extend_schema(request=s.DeskReasonSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"])
    def reopen(self, request, reference=None):
        """The raiser (or DCC) re-opens a resolved incident within the re-open window."""
        incident = self.get_object()
        data = _body(s.DeskReasonSerializer, request)
        return self._detail(services.incident_reopen(actor=request.user, incident=incident, **data))

    @extend_schema(methods=["get"], request=None, responses=s.IncidentAttachmentSerializer(many=True))
    @extend_schema(methods=["post"], request={"multipart/form-data": s.IncidentAttachmentUploadSerializer},
                   responses={201: s.IncidentAttachmentSerializer})
    @action(detail=True, methods=["get", "post"], parser_classes=[MultiPartParser],
            pagination_class=None, filter_backends=[])
    def attachments(self, request, reference=None):
        """GET: the files the reader may see. POST (multipart ``file``): attach one; its size is
        limited by the desk policy and its type is found from its content."""
        incident = self.get_object()
        if request.method == "GET":
            files = scope(request.user, models.IncidentAttachment.objects.filter(incident=incident)
                          .select_related("incident", "uploaded_by"), VIEW)
            return Response(s.IncidentAttachmentSerializer(files, many=True).data)
        upload = request.FILES.get("file")
        data = _body(s.IncidentAttachmentUploadSerializer, request)
        limit = models.DeskPolicy.current().attachment_max_bytes
        if upload.size > limit:  # refused before it is read into memory
            raise ValidationError({"file": [f"{upload.name} is {upload.size:,} bytes; the largest accepted is "
                                            f"{limit:,} bytes"]})
        attachment = services.incident_attach(actor=request.user, incident=incident, filename=upload.name,
                                              content=upload.read(), visibility=data["visibility"])
        return Response(s.IncidentAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IncidentRepeatSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"], url_path="repeat-of")
    def repeat_of(self, request, reference=None):
        """DCC links the incident to the earlier one it repeats."""
        incident = self.get_object()
        data = _body(s.IncidentRepeatSerializer, request)
        earlier = _one(selectors.incidents_visible(request.user), "earlier", data["earlier"],
                       {"reference": data["earlier"].strip().upper()})
        return self._detail(services.incident_link_repeat(actor=request.user, incident=incident, earlier=earlier))

    @extend_schema(request=s.ProblemLinkSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"], url_path="problem")
    def link_problem(self, request, reference=None):
        """DCC groups the incident under a problem record (null takes it out)."""
        incident = self.get_object()
        data = _body(s.ProblemLinkSerializer, request)
        problem = None
        if data["problem"] is not None:
            problem = _one(scope(request.user, models.Problem.objects.all(), VIEW), "problem", data["problem"],
                           {"reference": data["problem"].strip().upper()})
        return self._detail(services.incident_link_problem(actor=request.user, incident=incident, problem=problem))

    @extend_schema(request=s.IncidentPartiesSerializer, **INCIDENT_ACTION)
    @action(detail=True, methods=["post"])
    def parties(self, request, reference=None):
        """DCC names the other organisations interested in the incident (the whole list)."""
        incident = self.get_object()
        data = _body(s.IncidentPartiesSerializer, request)
        parties = _organisations(request.user, data["parties"], "parties")
        return self._detail(services.incident_set_parties(actor=request.user, incident=incident, parties=parties))

    @extend_schema(request=s.FlagMajorSerializer, responses={201: s.ServiceAlertSerializer})
    @action(detail=True, methods=["post"], url_path="flag-major")
    def flag_major(self, request, reference=None):
        """DCC flags a major incident: a service alert is published and the report falls due."""
        incident = self.get_object()
        data = _body(s.FlagMajorSerializer, request)
        alert = services.incident_flag_major(
            actor=request.user, incident=incident, alert_title=data["alert_title"],
            alert_description=data["alert_description"], components=_components(request.user, data["components"]),
            expected_resolution_at=data["expected_resolution_at"])
        return Response(s.ServiceAlertSerializer(alert, context=self.get_serializer_context()).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(methods=["get"], request=None, responses=s.MajorReportSerializer(many=True))
    @extend_schema(methods=["post"], request=s.MajorReportWriteSerializer, responses={201: s.MajorReportSerializer})
    @action(detail=True, methods=["get", "post"], url_path="major-reports", pagination_class=None,
            filter_backends=[])
    def major_reports(self, request, reference=None):
        """GET: every version of the major incident report. POST (DCC): write the next version."""
        incident = self.get_object()
        if request.method == "GET":
            versions = scope(request.user, models.MajorIncidentReport.objects.filter(incident=incident)
                             .select_related("incident", "author").order_by("version"), VIEW)
            return Response(s.MajorReportSerializer(versions, many=True).data)
        data = _body(s.MajorReportWriteSerializer, request)
        report = services.major_report_write(actor=request.user, incident=incident, **data)
        return Response(s.MajorReportSerializer(report).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": s.IncidentImportSerializer},
                   responses={200: s.IncidentImportResultSerializer, 201: s.IncidentImportResultSerializer})
    @action(detail=False, methods=["post"], url_path="import", parser_classes=[MultiPartParser],
            pagination_class=None, filter_backends=[])
    def import_file(self, request):
        """Raise incidents from a CSV or XLSX file. ``commit`` false (the default) checks every row
        and answers the preview; true raises them all in one transaction, or none: a refused row
        answers 400 naming its row and field, and nothing is written."""
        if not may(request.user, "servicedesk.incident.add"):
            raise PermissionDenied("Only service users and DCC raise incidents.")
        data = _body(s.IncidentImportSerializer, request)
        upload = data["file"]
        preview = importers.run(upload.read(), filename=upload.name, commit=data["commit"], actor=request.user)
        if preview.file_error:
            raise ValidationError({"file": [preview.file_error]})
        body = {"committed": preview.committed, "clean": preview.clean, "errors": preview.error_count,
                "rows": [{"row": r.row, "key": r.key, "error": r.error, "change": r.change} for r in preview.results]}
        if data["commit"] and not preview.committed:
            refused = "; ".join(f"row {r.row}: {r.error}" for r in preview.results if r.error)
            raise ValidationError({"detail": f"nothing was written: {refused}", **body})
        return Response(body, status=status.HTTP_201_CREATED if preview.committed else status.HTTP_200_OK)


class AttachmentViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Files attached to incidents the reader may see (DCC-internal ones only for DCC). Attach
    one with POST /incidents/{reference}/attachments/."""

    queryset = models.IncidentAttachment.objects.select_related("incident", "uploaded_by")
    serializer_class = s.IncidentAttachmentSerializer
    pagination_class = StandardPagination
    filterset_fields = ["visibility"]
    ordering_fields = ["uploaded_at"]

    @extend_schema(responses={(200, "application/octet-stream"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], **DOWNLOAD)
    def download(self, request, pk=None):
        attachment = self.get_object()
        return _download(attachment.file.open("rb"), attachment.filename, "application/octet-stream")


class MajorReportViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Versions of major incident reports, of incidents the reader may see; each as PDF."""

    queryset = models.MajorIncidentReport.objects.select_related("incident", "author").order_by("-created_at", "-id")
    serializer_class = s.MajorReportSerializer
    pagination_class = StandardPagination
    ordering_fields = ["created_at", "version"]

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], **DOWNLOAD)
    def pdf(self, request, pk=None):
        report = self.get_object()
        return _download(io.BytesIO(documents.major_report_pdf(report)), documents.major_report_filename(report),
                         "application/pdf")


# --- problems --------------------------------------------------------------------------------

class ProblemViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                     mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Problem records (DCC's): the common cause behind incidents, its root cause and fix.
    PATCH records the root cause, the fix and the status."""

    queryset = models.Problem.objects.select_related("created_by").prefetch_related("incidents")
    serializer_class = s.ProblemSerializer
    pagination_class = StandardPagination
    filterset_fields = ["status"]
    lookup_field = "reference"
    lookup_value_regex = LOOKUP
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=s.ProblemCreateSerializer, responses={201: s.ProblemSerializer})
    def create(self, request, *args, **kwargs):
        data = _body(s.ProblemCreateSerializer, request)
        incidents = [_one(selectors.incidents_visible(request.user), "incidents", ref, {"reference": ref.upper()})
                     for ref in dict.fromkeys(data["incidents"])]
        problem = services.problem_create(actor=request.user, title=data["title"], description=data["description"],
                                          incidents=incidents)
        return Response(s.ProblemSerializer(models.Problem.objects.get(pk=problem.pk)).data,
                        status=status.HTTP_201_CREATED)

    @extend_schema(request=s.ProblemUpdateSerializer, responses=s.ProblemSerializer)
    def partial_update(self, request, *args, **kwargs):
        problem = self.get_object()
        data = _body(s.ProblemUpdateSerializer, request)
        problem = services.problem_update(actor=request.user, problem=problem, **data)
        return Response(s.ProblemSerializer(models.Problem.objects.get(pk=problem.pk)).data)


# --- service status: components, alerts, maintenance -----------------------------------------

class ComponentViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The service's components and their current status, with the count of open alerts on each.
    DCC sets a component's status with POST .../status/ (kept for its history)."""

    queryset = models.ServiceComponent.objects.select_related("item").annotate(
        active_alerts=Count("alerts", filter=Q(alerts__closed_at__isnull=True), distinct=True))
    serializer_class = s.ServiceComponentSerializer
    pagination_class = None
    filterset_fields = ["status", "is_active"]
    lookup_field = "key"
    lookup_value_regex = LOOKUP

    @extend_schema(request=s.ServiceComponentStatusSerializer, responses=s.ServiceComponentSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, key=None):
        component = self.get_object()
        data = _body(s.ServiceComponentStatusSerializer, request)
        services.component_set_status(actor=request.user, component=component, **data)
        return Response(s.ServiceComponentSerializer(self.get_queryset().get(pk=component.pk)).data)


class ServiceAlertViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Service alerts, read by everyone; DCC publishes them (POST), adds updates and closes them."""

    queryset = models.ServiceAlert.objects.select_related("incident").prefetch_related(
        "components", Prefetch("updates", queryset=models.ServiceAlertUpdate.objects.select_related("author")))
    serializer_class = s.ServiceAlertSerializer
    pagination_class = StandardPagination
    lookup_field = "reference"
    lookup_value_regex = LOOKUP

    class Filter(django_filters.FilterSet):
        active = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull")
        component = django_filters.CharFilter(field_name="components__key", max_length=64,
                                              help_text="Key of an affected component")
        region = django_filters.ChoiceFilter(choices=Region.choices, method="filter_region")

        class Meta:
            model = models.ServiceAlert
            fields = ["active", "component", "region"]

        def filter_region(self, queryset, name, value):
            # Regions are a JSON list; an alert with none is national, so it affects every region.
            matching = [pk for pk, regions in queryset.values_list("pk", "regions") if not regions or value in regions]
            return queryset.filter(pk__in=matching)

    filterset_class = Filter

    def _answer(self, alert, code=status.HTTP_200_OK):
        fresh = self.queryset.get(pk=alert.pk)
        return Response(s.ServiceAlertSerializer(fresh, context=self.get_serializer_context()).data, status=code)

    @extend_schema(request=s.AlertPublishSerializer, responses={201: s.ServiceAlertSerializer})
    def create(self, request, *args, **kwargs):
        data = _body(s.AlertPublishSerializer, request)
        alert = services.service_alert_publish(
            actor=request.user, title=data["title"], description=data["description"],
            components=_components(request.user, data["components"]), regions=data["regions"],
            expected_resolution_at=data["expected_resolution_at"])
        return self._answer(alert, status.HTTP_201_CREATED)

    @extend_schema(request=s.AlertNewUpdateSerializer, responses={201: s.ServiceAlertSerializer})
    @action(detail=True, methods=["post"])
    def updates(self, request, reference=None):
        alert = self.get_object()
        data = _body(s.AlertNewUpdateSerializer, request)
        services.service_alert_update(actor=request.user, alert=alert, **data)
        return self._answer(alert, status.HTTP_201_CREATED)

    @extend_schema(request=s.AlertCloseSerializer, responses=s.ServiceAlertSerializer)
    @action(detail=True, methods=["post"])
    def close(self, request, reference=None):
        alert = self.get_object()
        data = _body(s.AlertCloseSerializer, request)
        return self._answer(services.service_alert_close(actor=request.user, alert=alert, **data))


class MaintenanceViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Planned maintenance. Everyone reads announced windows (DCC all). DCC schedules a window
    (POST; short notice needs a reason), a second DCC administrator approves it, then DCC
    announces it (a service alert) or cancels it."""

    queryset = (models.PlannedMaintenance.objects.select_related("scheduled_by", "approved_by", "alert")
                .prefetch_related("components"))
    serializer_class = s.MaintenanceSerializer
    pagination_class = StandardPagination
    filterset_fields = ["status"]
    ordering_fields = ["start_at"]
    lookup_field = "reference"
    lookup_value_regex = LOOKUP

    def _answer(self, maintenance, code=status.HTTP_200_OK):
        return Response(s.MaintenanceSerializer(self.queryset.get(pk=maintenance.pk)).data, status=code)

    @extend_schema(request=s.MaintenanceScheduleSerializer, responses={201: s.MaintenanceSerializer})
    def create(self, request, *args, **kwargs):
        data = _body(s.MaintenanceScheduleSerializer, request)
        maintenance = services.maintenance_schedule(
            actor=request.user, title=data["title"], description=data["description"], start_at=data["start_at"],
            end_at=data["end_at"], components=_components(request.user, data["components"]),
            regions=data["regions"], short_notice_reason=data["short_notice_reason"])
        return self._answer(maintenance, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=s.MaintenanceSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, reference=None):
        return self._answer(services.maintenance_approve(actor=request.user, maintenance=self.get_object()))

    @extend_schema(request=None, responses=s.MaintenanceSerializer)
    @action(detail=True, methods=["post"])
    def announce(self, request, reference=None):
        return self._answer(services.maintenance_announce(actor=request.user, maintenance=self.get_object()))

    @extend_schema(request=s.DeskReasonSerializer, responses=s.MaintenanceSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, reference=None):
        maintenance = self.get_object()
        data = _body(s.DeskReasonSerializer, request)
        return self._answer(services.maintenance_cancel(actor=request.user, maintenance=maintenance, **data))


# --- the desk's tables -----------------------------------------------------------------------

class TargetTimeViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """The target response and resolution time of each category (the shipped defaults, marked
    so, until DCC sets them). DCC administrators change one with PATCH; open incidents of that
    category follow."""

    queryset = models.TargetTime.objects.all()
    serializer_class = s.TargetTimeSerializer
    pagination_class = None
    filter_backends = []
    lookup_field = "category"
    lookup_value_regex = LOOKUP

    def _row(self, category):
        if not allows(self.request.user, models.TargetTime):
            raise Http404("No such object")
        try:
            return selectors.targets()[int(category)]
        except (KeyError, TypeError, ValueError):
            raise Http404("No such category") from None

    @extend_schema(responses=s.TargetTimeSerializer(many=True))
    def list(self, request):
        if not allows(request.user, models.TargetTime):
            return Response([])
        return Response(s.TargetTimeSerializer([row for _c, row in sorted(selectors.targets().items())],
                                               many=True).data)

    def retrieve(self, request, category=None):
        return Response(s.TargetTimeSerializer(self._row(category)).data)

    @extend_schema(request=s.TargetTimeWriteSerializer, responses=s.TargetTimeSerializer)
    def partial_update(self, request, category=None):
        row = self._row(category)
        data = _body(s.TargetTimeWriteSerializer, request)
        values = {"response_minutes": row.response_minutes, "resolution_minutes": row.resolution_minutes,
                  "basis": row.basis, "note": row.note, **data}
        saved = services.target_time_set(actor=request.user, category=row.category, **values)
        return Response(s.TargetTimeSerializer(saved).data)


class PolicyView(APIView):
    """The desk policy: when resolved incidents close, when a major incident report is due, the
    minimum notice of planned maintenance, the largest attachment. DCC administrators PATCH it."""

    model = models.DeskPolicy
    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(responses=s.DeskPolicySerializer)
    def get(self, request):
        if not allows(request.user, models.DeskPolicy):
            raise PermissionDenied("The desk policy is not yours to read.")
        return Response(s.DeskPolicySerializer(models.DeskPolicy.current()).data)

    @extend_schema(request=s.DeskPolicySerializer, responses=s.DeskPolicySerializer)
    def patch(self, request):
        if not may(request.user, "servicedesk.deskpolicy.change"):
            raise PermissionDenied("Only DCC administrators change the desk policy.")
        data = _body(s.DeskPolicySerializer, request, partial=True)
        return Response(s.DeskPolicySerializer(services.policy_set(actor=request.user, **data)).data)


# --- forecasts, reports and deliveries -------------------------------------------------------

class ForecastViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, viewsets.GenericViewSet):
    """A service user's monthly forecasts per SRV (its own; DCC reads all and enters one for a
    service user it names). POST sets one, replacing the month's forecast of that SRV."""

    queryset = models.UsageForecast.objects.select_related("organisation", "srv", "updated_by")
    serializer_class = s.ForecastSerializer
    pagination_class = StandardPagination
    ordering_fields = ["month"]

    class Filter(django_filters.FilterSet):
        month = django_filters.CharFilter(method="filter_month", max_length=7, help_text="YYYY-MM")
        srv = django_filters.CharFilter(field_name="srv__code", max_length=16)

        class Meta:
            model = models.UsageForecast
            fields = ["month", "srv"]

        def filter_month(self, queryset, name, value):
            return queryset.filter(month=_month(value, "month"))

    filterset_class = Filter

    @extend_schema(request=s.ForecastWriteSerializer, responses={201: s.ForecastSerializer})
    def create(self, request, *args, **kwargs):
        data = _body(s.ForecastWriteSerializer, request)
        user = request.user
        if data["organisation"]:
            organisation = _organisation(user, data["organisation"])
        elif user.is_dcc:
            raise ValidationError({"organisation": ["name the service user the forecast is for"]})
        else:
            organisation = user.organisation
        if organisation is None or organisation.kind != OrganisationKind.SERVICE_USER:
            raise ValidationError({"organisation": ["forecasts are a service user's"]})
        _month_in_range(data["month"], "month")
        row = services.forecast_set(actor=user, organisation=organisation, month=data["month"], srv=data["srv"],
                                    forecast=data["forecast"])
        return Response(s.ForecastSerializer(self.queryset.get(pk=row.pk)).data, status=status.HTTP_201_CREATED)


def _month_in_range(month, field):
    if not dt.date(2000, 1, 1) <= month <= dt.date(2100, 12, 1):
        raise ValidationError({field: ["give a month between 2000-01 and 2100-12"]})
    return month


def _month(value, field):
    try:
        return _month_in_range(dt.datetime.strptime(str(value), "%Y-%m").date(), field)
    except ValueError:
        raise ValidationError({field: ["give the month as YYYY-MM, e.g. 2026-03"]}) from None


def _day(value, field):
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ValidationError({field: ["give the date as YYYY-MM-DD"]}) from None


class DeliveryViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The monthly self-service reports delivered to a service user (its own; DCC all), each
    kept for download."""

    queryset = models.SelfServiceReportDelivery.objects.select_related("organisation")
    serializer_class = s.DeliverySerializer
    pagination_class = StandardPagination
    filterset_fields = ["kind", "state"]
    ordering_fields = ["month"]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"], **DOWNLOAD)
    def download(self, request, pk=None):
        delivery = self.get_object()
        if not delivery.file:
            raise Http404("Not delivered yet")
        return _download(delivery.file.open("rb"), PurePosixPath(delivery.file.name).name, "text/csv")


REPORT_PARAMETERS = [
    OpenApiParameter("export", str, enum=["csv"], description="csv: every row as a CSV file"),
    OpenApiParameter("organisation", str, description="Organisation code of the service user (DCC only)"),
    OpenApiParameter("status", str, description="SMI status (RSMI_001)"),
    OpenApiParameter("device_type", str, description="Device type (RSMI_001-003)"),
    OpenApiParameter("region", str, enum=list(Region.values), description="Region (RSMI_001, RSMI_004)"),
    OpenApiParameter("month", str, description="YYYY-MM (RSAT_001; default: last month)"),
    OpenApiParameter("device", str, description="EUI-64 of one of the organisation's devices (RSAT_002)"),
    OpenApiParameter("from", str, description="YYYY-MM-DD, first day (RSAT_002; default: 30 days ago)"),
    OpenApiParameter("to", str, description="YYYY-MM-DD, last day (RSAT_002; default: today)"),
    OpenApiParameter("page", int, description="Page of rows in JSON (500 a page)"),
]
REPORT_PAGE = 500


class ReportView(APIView):
    """A self-service report (SSI Reporting Specification) over the reader's own organisation's
    data (DCC: the service user it names), with the report's filters; JSON a page of rows at a
    time, or every row as CSV (``export=csv``), the same file the report function writes."""

    model = models.SelfServiceReportDelivery  # the reports' stored form; the report itself is computed
    permission_classes = [IsAuthenticated]
    # ?export=csv chooses the file, not the Accept header; JSON (and any error) otherwise.
    renderer_classes = [JSONRenderer]
    content_negotiation_class = DownloadNegotiation

    def _build(self, request, kind):
        """The report and whose it is, from the query's filters (400 naming a bad one)."""
        q = request.query_params
        user = request.user
        organisation = None
        code = q.get("organisation", "")
        if code:
            if len(code) > 20:
                raise ValidationError({"organisation": ["an organisation code has at most 20 characters"]})
            organisation = _organisation(user, code)
        elif user.is_dcc:
            raise ValidationError({"organisation": ["name the service user whose report DCC reads"]})
        try:
            source = reports.report_scope(user, organisation)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc))
        for name in ("status", "device_type", "region"):
            if len(q.get(name, "")) > 40:
                raise ValidationError({name: ["at most 40 characters"]})
        region = q.get("region", "")
        if region and region not in Region.values:
            raise ValidationError({"region": [f"{region!r} is not one of {', '.join(Region.values)}"]})
        if kind == ReportKind.RSMI_001:
            return source, reports.installation_status(source, status=q.get("status", ""),
                                                       device_type=q.get("device_type", ""), region=region)
        if kind == ReportKind.RSMI_002:
            return source, reports.by_firmware(source, device_type=q.get("device_type", ""))
        if kind == ReportKind.RSMI_003:
            return source, reports.by_model(source, device_type=q.get("device_type", ""))
        if kind == ReportKind.RSMI_004:
            return source, reports.hubs(source, region=region)
        if kind == ReportKind.RSAT_001:
            if q.get("month"):
                month = _month(q["month"], "month")
            else:
                month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
            return source, reports.monthly_transactions(source, month=month)
        if len(q.get("device", "")) > 40:
            raise ValidationError({"device": ["an EUI-64 has at most 23 characters"]})
        try:
            device_id = normalise_eui64(q.get("device", ""), field="device")
        except DjangoValidationError as exc:
            raise ValidationError({"device": exc.messages})
        device = source.devices.filter(device_id=device_id).first()
        if device is None:
            raise ValidationError({"device": [f"{device_id} is not one of your organisation's devices"]})
        today = timezone.localdate()
        first = _day(q["from"], "from") if q.get("from") else today - dt.timedelta(days=30)
        last = _day(q["to"], "to") if q.get("to") else today
        if last < first:
            raise ValidationError({"to": ["the period ends before it starts"]})
        if (last - first).days > 366:
            raise ValidationError({"to": ["a period of at most a year"]})
        london = selectors.LONDON
        start = dt.datetime.combine(first, dt.time(0), tzinfo=london)
        end = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(0), tzinfo=london)
        return source, reports.device_transactions(source, device=device, start=start, end=end)

    @extend_schema(parameters=REPORT_PARAMETERS,
                   responses={(200, "application/json"): s.SelfServiceReportSerializer,
                              (200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request, report):
        if report not in ReportKind.values:
            raise Http404("No such report")
        kind = ReportKind(report)
        source, built = self._build(request, kind)
        organisation = source.organisation
        if request.query_params.get("export", "") == "csv":
            return built.response(organisation)
        if request.query_params.get("export"):
            raise ValidationError({"export": ["the only export is csv"]})
        page_text = request.query_params.get("page", "1")
        if not page_text.isdigit() or not 1 <= int(page_text) <= 1_000_000:
            raise ValidationError({"page": ["a page number from 1"]})
        page = int(page_text)
        rows = itertools.islice(built.rows, (page - 1) * REPORT_PAGE, page * REPORT_PAGE + 1)
        shown = [dict(zip(built.headers, row, strict=False)) for row in rows]
        return Response({"kind": kind.value, "title": built.title, "organisation": organisation.code,
                         "headers": list(built.headers),
                         "filters": {k: (None if v is None else str(v)) for k, v in built.filters.items()},
                         "rows": shown[:REPORT_PAGE], "page": page, "has_more": len(shown) > REPORT_PAGE})

ROUTES = [
    ("servicedesk/incidents", IncidentViewSet, "servicedesk-incident"),
    ("servicedesk/attachments", AttachmentViewSet, "servicedesk-attachment"),
    ("servicedesk/major-reports", MajorReportViewSet, "servicedesk-major-report"),
    ("servicedesk/problems", ProblemViewSet, "servicedesk-problem"),
    ("servicedesk/components", ComponentViewSet, "servicedesk-component"),
    ("servicedesk/alerts", ServiceAlertViewSet, "servicedesk-alert"),
    ("servicedesk/maintenance", MaintenanceViewSet, "servicedesk-maintenance"),
    ("servicedesk/targets", TargetTimeViewSet, "servicedesk-target"),
    ("servicedesk/forecasts", ForecastViewSet, "servicedesk-forecast"),
    ("servicedesk/deliveries", DeliveryViewSet, "servicedesk-delivery"),
]

api_urlpatterns = [
    path("servicedesk/policy/", PolicyView.as_view(), name="servicedesk-policy"),
    path("servicedesk/reports/<str:report>/", ReportView.as_view(), name="servicedesk-report"),
]
