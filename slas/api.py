"""REST API of the slas app: measures (targets editable by DCC administrators), relief windows,
charges, statements with their versions and downloads, and the monthly report as JSON.

Every viewset is scoped (portal.api); writes go through slas.services. Nothing here is deleted:
statements are restated, relief windows and charges keep their audit trail."""
import io

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action as api_action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from portal.access import may
from portal.api import ScopedViewSetMixin, validated
from portal.choices import OrganisationKind, ProviderCode, Region
from portal.dbrouter import reading_from_replica
from portal.models import Organisation
from servicedesk.api import DOWNLOAD
from slas import documents, metrics, report, selectors, services
from slas.filtersets import ChargeFilterSet, MonthField, ReliefEventFilterSet, StatementFilterSet
from slas.models import Charge, Measure, ReliefEvent, Statement

MONEY = dict(max_digits=14, decimal_places=2, coerce_to_string=True)


def _require(user, capability, what):
    # DRF's own PermissionDenied: it keeps the message (Django's would answer a generic one).
    if not may(user, capability):
        raise PermissionDenied(f"Only DCC administrators may {what}.")


@extend_schema_field(OpenApiTypes.STR)
class MonthText(serializers.Field):
    """A London calendar month as 'YYYY-MM'."""

    def to_representation(self, value):
        return f"{value:%Y-%m}"

    def to_internal_value(self, data):
        try:
            return MonthField().clean(data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.messages) from None


# --- measures ------------------------------------------------------------------------------------

class MeasureSerializer(serializers.ModelSerializer):
    interval_formula = serializers.CharField(source="get_interval_display", read_only=True)

    class Meta:
        model = Measure
        fields = ["id", "code", "name", "provider", "measurement_type", "interval", "interval_formula",
                  "target_seconds", "target_pct", "minimum_pct", "weight", "updated_at"]
        read_only_fields = ["code", "name", "provider", "measurement_type", "interval", "updated_at"]


class MeasureViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                     viewsets.GenericViewSet):
    """The service measures and their targets. Everyone who may sign in reads them; DCC
    administrators change target time, target %, minimum % and weight (the current month's rollups
    are rebuilt, since counts within target depend on the target)."""

    queryset = Measure.objects.all()
    serializer_class = MeasureSerializer
    filterset_fields = ["code", "provider", "measurement_type"]

    def perform_update(self, serializer):
        _require(self.request.user, "slas.measure.change", "change measure targets")
        serializer.instance = services.measure_update(measure=serializer.instance, actor=self.request.user,
                                    **serializer.validated_data)


# --- relief windows ------------------------------------------------------------------------------

class ReliefEventSerializer(serializers.ModelSerializer):
    recorded_by = serializers.CharField(source="recorded_by.username", read_only=True, default=None, allow_null=True)
    region = serializers.ChoiceField(choices=Region.choices, required=False, allow_blank=True, default="",
                                     help_text="blank: every region")

    class Meta:
        model = ReliefEvent
        fields = ["id", "provider", "region", "starts_at", "ends_at", "reason", "recorded_by", "recorded_at"]
        read_only_fields = ["recorded_at"]

    def validate(self, attrs):
        if attrs["ends_at"] <= attrs["starts_at"]:
            raise serializers.ValidationError({"ends_at": "The window must end after it starts."})
        return attrs


class ReliefEventViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Approved relief windows: requests and alerts whose clock started inside one are excluded from
    the provider's measures. DCC administrators record them (the months touched are rebuilt)."""

    queryset = ReliefEvent.objects.select_related("recorded_by")
    serializer_class = ReliefEventSerializer
    filterset_class = ReliefEventFilterSet

    def perform_create(self, serializer):
        _require(self.request.user, "slas.reliefevent.add", "record relief events")
        serializer.instance = services.relief_record(actor=self.request.user, **serializer.validated_data)


# --- charges -------------------------------------------------------------------------------------

class ChargeSerializer(serializers.ModelSerializer):
    month = MonthText()
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True, allow_null=True)
    party = serializers.CharField(read_only=True)
    amount = serializers.DecimalField(**MONEY)

    class Meta:
        model = Charge
        fields = ["id", "month", "party", "provider", "organisation", "amount", "updated_at"]


class ChargeCreateSerializer(serializers.Serializer):
    month = MonthText(help_text="YYYY-MM")
    party = serializers.CharField(max_length=20, help_text="a provider code (DSP, CSP_NORTH...) or a service "
                                                           "user's organisation code")
    amount = serializers.DecimalField(min_value=0, help_text="pounds", **MONEY)

    def validate_party(self, value):
        value = value.strip()
        if value in ProviderCode.values and value != ProviderCode.E2E:
            return {"provider": value}
        organisation = Organisation.objects.filter(code=value, kind=OrganisationKind.SERVICE_USER).first()
        if organisation is None:
            raise serializers.ValidationError(f"{value!r} is neither a provider code nor a service user's code.")
        return {"organisation": organisation}


class ChargeViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                    viewsets.GenericViewSet):
    """Monthly charges: each provider's operational charge and each service user's charges. Service
    users see their own organisation's; DCC administrators set a charge (create, or replace the
    month's figure for that party)."""

    queryset = Charge.objects.select_related("organisation")
    serializer_class = ChargeSerializer
    filterset_class = ChargeFilterSet

    @extend_schema(request=ChargeCreateSerializer, responses={201: ChargeSerializer})
    def create(self, request, *args, **kwargs):
        _require(request.user, "slas.charge.set", "set charges")
        data = validated(ChargeCreateSerializer, request)
        charge = services.charge_set(month=data["month"], amount=data["amount"], actor=request.user,
                       **data["party"])
        return Response(ChargeSerializer(charge).data, status=status.HTTP_201_CREATED)


# --- statements ----------------------------------------------------------------------------------

class DownloadsSerializer(serializers.Serializer):
    pdf = serializers.CharField()
    csv = serializers.CharField()
    html = serializers.CharField()


class StatementSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    month = MonthText()
    charges = serializers.DecimalField(**MONEY)
    amount = serializers.DecimalField(**MONEY)
    reference = serializers.CharField(read_only=True)
    downloads = serializers.SerializerMethodField()

    class Meta:
        model = Statement
        fields = ["id", "reference", "organisation", "month", "version", "reason", "charges", "amount",
                  "issued_at", "notified_at", "downloads"]

    @extend_schema_field(DownloadsSerializer)
    def get_downloads(self, statement):
        return {fmt: reverse("slas:statement_download", args=[statement.pk, fmt]) for fmt in ("pdf", "csv", "html")}


class StatementDetailSerializer(StatementSerializer):
    data = serializers.JSONField(read_only=True, help_text="the frozen measures, credit calculations and pool")

    class Meta(StatementSerializer.Meta):
        fields = [*StatementSerializer.Meta.fields, "data"]


class StatementViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Credit statements, every version. Service users read their own organisation's only."""

    queryset = Statement.objects.select_related("organisation").order_by("-month", "organisation__code",
                                                                        "-version")
    serializer_class = StatementSerializer
    filterset_class = StatementFilterSet

    def get_serializer_class(self):
        return StatementDetailSerializer if self.action == "retrieve" else StatementSerializer

    @extend_schema(responses=StatementSerializer(many=True))
    @api_action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def versions(self, request, pk=None):
        """Every version of this statement's month for its organisation, oldest first."""
        statement = self.get_object()
        versions = self.get_queryset().filter(organisation=statement.organisation_id, month=statement.month)
        return Response(StatementSerializer(versions.order_by("version"), many=True).data)

    @extend_schema(responses={(200, "application/pdf"): OpenApiTypes.BINARY})
    @api_action(detail=True, methods=["get"], **DOWNLOAD)
    def pdf(self, request, pk=None):
        """This statement version as the PDF the statement page downloads (same scope: your
        organisation's only, 404 for anyone else's)."""
        statement = self.get_object()
        response = FileResponse(io.BytesIO(documents.statement_pdf(statement)), as_attachment=True,
                                filename=f"statement-{statement.reference}.pdf", content_type="application/pdf")
        response["X-Content-Type-Options"] = "nosniff"
        return response


# --- the monthly report --------------------------------------------------------------------------

class ReportMeasureSerializer(serializers.Serializer):
    code = serializers.CharField()
    type = serializers.CharField()
    provider = serializers.CharField()
    region = serializers.CharField(allow_null=True)
    measured = serializers.IntegerField()
    within = serializers.IntegerField()
    achieved_pct = serializers.CharField(allow_null=True)
    target_pct = serializers.CharField()
    minimum_pct = serializers.CharField()
    met = serializers.BooleanField(allow_null=True)
    p99_seconds = serializers.CharField(allow_null=True)


class ReportIncidentSerializer(serializers.Serializer):
    """One incident measure for one resolver ("" when the measure had no incidents that month)."""

    code = serializers.CharField()
    category = serializers.IntegerField()
    resolver = serializers.CharField(allow_blank=True)
    measured = serializers.IntegerField()
    within = serializers.IntegerField()
    achieved_pct = serializers.CharField(allow_null=True)
    target_pct = serializers.CharField()
    met = serializers.BooleanField(allow_null=True)


class ReportAvailabilitySerializer(serializers.Serializer):
    """One service component's month: minutes, planned maintenance, unplanned outage, percent."""

    component = serializers.CharField()
    minutes = serializers.CharField()
    maintenance = serializers.CharField()
    outage = serializers.CharField()
    percent = serializers.CharField()


class ReportCreditSerializer(serializers.Serializer):
    provider = serializers.CharField()
    points = serializers.CharField()
    credit_pct = serializers.CharField()
    charge = serializers.CharField()
    credit = serializers.CharField()


class ReportStatementSerializer(serializers.Serializer):
    organisation = serializers.CharField()
    charges = serializers.CharField()
    amount = serializers.CharField()


class ReportSerializer(serializers.Serializer):
    month = serializers.CharField()
    measures = ReportMeasureSerializer(many=True)
    incidents = ReportIncidentSerializer(many=True)
    availability = ReportAvailabilitySerializer(many=True)
    credits = ReportCreditSerializer(many=True)
    statements = ReportStatementSerializer(many=True)


class ReportView(APIView):
    """The month's service measure report, the shape of ``manage.py slas_report --format json``
    (decimals as strings). DCC staff get the full report; a service user gets it over its own
    traffic, with only its own statement line."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("month", OpenApiTypes.STR, required=True, description="YYYY-MM (London)")],
        responses={200: ReportSerializer, 400: OpenApiTypes.OBJECT, 403: OpenApiTypes.OBJECT},
    )
    def get(self, request):
        user = request.user
        if not may(user, "slas.report.view"):
            raise PermissionDenied("Service levels are for DCC operations and service users.")
        raw = request.query_params.get("month", "")
        if not raw:
            raise ValidationError({"month": "Give the month as YYYY-MM."})
        try:
            month = metrics.parse_month(raw)
        except ValueError as exc:
            raise ValidationError({"month": str(exc)}) from None
        with reading_from_replica():  # reading work: the replica while it is fresh (portal.dbrouter)
            built = report.build(month, selectors.viewer_organisation(user))
            return Response(report.as_json(built))


ROUTES = [
    ("slas/measures", MeasureViewSet, "slas-measure"),
    ("slas/relief-events", ReliefEventViewSet, "slas-relief-event"),
    ("slas/charges", ChargeViewSet, "slas-charge"),
    ("slas/statements", StatementViewSet, "slas-statement"),
]

api_urlpatterns = [
    path("slas/report/", ReportView.as_view(), name="slas-report"),
]
