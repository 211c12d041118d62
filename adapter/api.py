"""REST API of the adapter: submit, list, filter, read and cancel service requests; batches
(upload, progress, per-row results, cancel); four-eyes approval of DCC's critical requests and
large batches; alerts (read; DCC's backend posts them); anomaly thresholds, DCC's floors under
them and the pending changes that would loosen one past its floor; the SRV catalogue."""
import base64
import datetime as dt

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, PermissionDenied
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from adapter import services, signing
from adapter.choices import RequestState, ThresholdPeriod
from adapter.filtersets import AlertFilterSet, RequestFilterSet
from adapter.models import (
    Alert,
    AnomalyThreshold,
    Batch,
    BatchRow,
    Certificate,
    ServiceRequest,
    ServiceRequestVariant,
    ThresholdChange,
    ThresholdFloor,
)
from portal.access import may
from portal.api import InstantField, ScopedModelViewSet, ScopedReadOnlyViewSet, ScopedViewSetMixin, validated
from portal.choices import Region
from portal.errors import messages_by_field
from portal.models import Organisation
from portal.pagination import AscendingKeysetPagination, KeysetPagination, StandardPagination
from portal.parsers import JSONParser


class StateConflict(APIException):
    """409: the object is not in a state that allows the action (approve what no longer awaits approval)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "The object is not in a state that allows this action."
    default_code = "conflict"


def _api_error(exc):
    if isinstance(exc, services.SubmitRefused):
        return ApiValidationError({exc.field: [exc.message]})
    return ApiValidationError(messages_by_field(exc, unnamed="detail"))


def _decide(action, **kwargs):
    """Run a four-eyes decision: 403 naming why (not DCC, one's own request), 409 naming the state."""
    try:
        return action(**kwargs)
    except DjangoPermissionDenied as exc:
        raise PermissionDenied(str(exc))
    except services.Conflict as exc:
        raise StateConflict({exc.field: [exc.message]})


class SrvSerializer(serializers.ModelSerializer):
    class Meta:
        model = ServiceRequestVariant
        fields = ["code", "name", "critical", "on_demand", "future_dated_pattern", "dcc_scheduled", "non_device",
                  "roles", "device_types", "measurement_type", "param_schema"]


class RequestSerializer(serializers.ModelSerializer):
    srv = serializers.SlugRelatedField(slug_field="code", read_only=True)
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    device_id = serializers.CharField(source="device_ref", read_only=True)
    state = serializers.CharField(read_only=True, help_text="received, awaiting_approval, awaiting_signature, "
                                  "quarantined, rejected, queued, sent, responded, failed, timed_out, cancelled")
    measurement_type = serializers.CharField(read_only=True)
    # Declared: as a read-only model field it would lose allow_blank, and the schema's enum would then
    # not admit the blank region a request without a device (or a device without a region) has.
    region = serializers.ChoiceField(choices=Region.choices, allow_blank=True, read_only=True)

    class Meta:
        model = ServiceRequest
        fields = ["id", "request_id", "srv", "organisation", "device_id", "region", "measurement_type", "state",
                  "outcome", "message", "params", "execute_at", "received_at", "dsp_sent_at", "wan_delivered_at",
                  "device_responded_at", "wan_returned_at", "responded_at", "completed_at", "batch", "precommand_at",
                  "signed_at", "signature_failures", "attempts", "response", "notified_at", "approved_by",
                  "approved_at", "declined_by", "declined_at"]
        read_only_fields = fields


class PrecommandSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    request_id = serializers.CharField()
    state = serializers.CharField()
    precommand = serializers.CharField(help_text="The DUIS pre-command document (command variant 4)")
    bytes_base64 = serializers.SerializerMethodField(help_text="base64 of the exact bytes to sign")
    algorithm = serializers.SerializerMethodField(help_text="ECDSA-P256-SHA256")
    signature_encoding = serializers.SerializerMethodField()
    precommand_at = InstantField()
    sign_by = serializers.SerializerMethodField(help_text="When the request times out unsigned")

    def get_bytes_base64(self, obj) -> str:
        return base64.b64encode(signing.precommand_bytes(obj.precommand)).decode("ascii")

    def get_algorithm(self, obj) -> str:
        return signing.ALGORITHM

    def get_signature_encoding(self, obj) -> str:
        return signing.ENCODING

    def get_sign_by(self, obj) -> dt.datetime | None:
        return services.signature_deadline(obj)


class SignatureSerializer(serializers.Serializer):
    signature = serializers.CharField(max_length=signing.MAX_SIGNATURE_TEXT, help_text=(
        "base64 ECDSA P-256 SHA-256 signature of the pre-command bytes: DER, or raw r||s (64 bytes, WebCrypto)"))


class CertificateSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    uploaded_by = serializers.StringRelatedField()
    approved_by = serializers.StringRelatedField()

    class Meta:
        model = Certificate
        fields = ["id", "organisation", "usage", "subject_eui64", "issuer", "serial", "not_before", "not_after",
                  "state", "uploaded_by", "approved_by", "approved_at", "revoked_at", "created_at", "pem"]
        read_only_fields = fields


class CertificateUploadSerializer(serializers.Serializer):
    pem = serializers.CharField(trim_whitespace=False, help_text=(
        "One PEM certificate (-----BEGIN CERTIFICATE-----), ECDSA P-256, naming your organisation's DUIS user id. "
        "Never a private key: an upload holding one is refused."))


class SubmitSerializer(serializers.Serializer):
    srv = serializers.CharField(help_text="SRV code, e.g. 7.5")
    device_id = serializers.CharField(required=False, allow_blank=True, default="")
    params = serializers.JSONField(required=False, default=dict)
    execute_at = InstantField(required=False, allow_null=True, default=None)
    request_id = serializers.CharField(required=False, allow_blank=True, default="",
                                       help_text="originator:target:counter; omit to have the portal allocate one")


class SignedDocumentSerializer(serializers.Serializer):
    document = serializers.CharField(trim_whitespace=False, max_length=1024 * 1024,
                                     help_text="The DUIS request document, signed by the organisation's own "
                                               "message-signing key (enveloped XMLDSig, as DUIS specifies)")


class ServiceRequestViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Service requests. POST submits one: 201 with I99 (queued or quarantined), 200 with the
    stored request when the request id was already used, 422 with the DUIS code when a check fails."""

    queryset = ServiceRequest.objects.select_related("srv", "organisation")
    serializer_class = RequestSerializer
    filterset_class = RequestFilterSet
    pagination_class = KeysetPagination
    ordering_fields = []

    @extend_schema(request=SubmitSerializer, responses={201: RequestSerializer, 200: RequestSerializer,
                                                        422: RequestSerializer})
    def create(self, request, *args, **kwargs):
        data = validated(SubmitSerializer, request)
        # ScopedPermission let DCC staff and service users this far; sending needs an organisation.
        if not may(request.user, "adapter.servicerequest.submit"):
            raise PermissionDenied("You belong to no organisation.")
        try:
            obj = services.request_submit(user=request.user, srv=data["srv"],
                                          device_id=data["device_id"],
                                          params=data["params"],
                                          execute_at=data["execute_at"],
                                          request_id=data["request_id"] or None)
        except (services.SubmitRefused, ValidationError) as exc:
            raise _api_error(exc)
        if obj.organisation_id != request.user.organisation_id and not request.user.is_dcc:
            raise ApiValidationError({"request_id": ["this request id is in use"]})
        code = status.HTTP_200_OK if obj.resubmitted else (
            422 if obj.state == RequestState.REJECTED else status.HTTP_201_CREATED)
        return Response(RequestSerializer(obj).data, status=code)

    @extend_schema(request=SignedDocumentSerializer, responses=RequestSerializer)
    @action(detail=True, methods=["post"], url_path="signed-document")
    def signed_document(self, request, pk=None):
        """A service user that has not delegated message signing posts the DUIS document it signed
        itself; the portal verifies it (never signs it) and sends exactly those bytes."""
        obj = self.get_object()
        data = validated(SignedDocumentSerializer, request)
        try:
            services.signed_document_post(request=obj, document=data["document"].encode("utf-8"),
                                          actor=request.user)
        except ValidationError as exc:
            raise _api_error(exc)
        return Response(RequestSerializer(obj).data)

    @extend_schema(request=None, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        obj = self.get_object()
        try:
            services.request_cancel(request=obj, actor=request.user)
        except ValidationError as exc:
            raise _api_error(exc)
        return Response(RequestSerializer(obj).data)

    @extend_schema(responses=PrecommandSerializer, description=(
        "The pre-command of a critical request, to be signed by the organisation's own key: ECDSA P-256 with "
        "SHA-256 over exactly the bytes whose base64 is ``bytes_base64`` (the UTF-8 of ``precommand``). "
        "404 for a request that is not critical."))
    @action(detail=True, methods=["get"])
    def precommand(self, request, pk=None):
        obj = self.get_object()
        if not obj.srv.critical or not obj.precommand:
            raise NotFound("This request has no pre-command: only critical requests are signed.")
        return Response(PrecommandSerializer(obj).data)

    @extend_schema(request=SignatureSerializer, responses={200: RequestSerializer}, description=(
        "Offer the signature of the pre-command (base64 of DER or of raw r||s). A signature that verifies "
        "against an approved command-signing certificate of the organisation queues the request for sending; "
        "one that does not is refused with 400 and the request keeps waiting."))
    @action(detail=True, methods=["post"])
    def signature(self, request, pk=None):
        obj = self.get_object()  # first: another organisation's request is 404, whatever the body
        data = validated(SignatureSerializer, request)
        try:
            obj = services.request_sign(request=obj, signature=data["signature"], actor=request.user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc))
        except ValidationError as exc:
            raise _api_error(exc)
        return Response(RequestSerializer(obj).data)

    @extend_schema(request=None, responses={200: RequestSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Four eyes: a second DCC person approves a request awaiting approval (403 for one's own)."""
        obj = _decide(services.request_approve, request=self.get_object(), actor=request.user)
        return Response(RequestSerializer(obj).data)

    @extend_schema(request=None, responses={200: RequestSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Four eyes: a second DCC person declines a request awaiting approval; it is never sent."""
        obj = _decide(services.request_decline, request=self.get_object(), actor=request.user)
        return Response(RequestSerializer(obj).data)


class BatchSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    state = serializers.CharField(read_only=True, help_text="uploaded, validating, awaiting_approval, running, "
                                  "completed, cancelled, declined, failed")
    progress = serializers.SerializerMethodField()

    class Meta:
        model = Batch
        fields = ["id", "name", "filename", "organisation", "state", "total_rows", "checked_rows", "accepted_rows",
                  "rejected_rows", "error", "created_at", "checked_at", "completed_at", "cancelled_at", "progress",
                  "needs_approval", "approved_by", "approved_at", "declined_by", "declined_at"]
        read_only_fields = fields

    def get_progress(self, batch) -> dict:
        done, total, counts = services.batch_progress(batch)
        return {"done": done, "total": total, "by_state": counts}


class BatchRowSerializer(serializers.ModelSerializer):
    request_id = serializers.CharField(source="request.request_id", default="", read_only=True)
    state = serializers.CharField(source="request.state", default=RequestState.REJECTED.value, read_only=True)

    class Meta:
        model = BatchRow
        fields = ["row", "srv_code", "device_ref", "code", "message", "request_id", "state"]


class BatchRowsSerializer(serializers.Serializer):
    """A batch sent as JSON: the rows themselves, each an object (checked row by row in the
    background, as a file's rows are); a row that is not an object is a 400 naming ``rows.N``."""

    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    rows = serializers.ListField(child=serializers.DictField(), allow_empty=False, help_text=(
        'one object per row: {"srv", "device_id", "params", "execute_at"}; at most UPLOAD_MAX_ROWS '
        '(200,000 by default) rows, in a body of at most 10 MiB (413 beyond): send more as a file'))

    def validate_rows(self, rows: list) -> list:
        from django.conf import settings

        if len(rows) > settings.UPLOAD_MAX_ROWS:
            raise serializers.ValidationError(
                f"{len(rows):,} rows; at most {settings.UPLOAD_MAX_ROWS:,} are accepted in one batch (UPLOAD_MAX_ROWS)")
        return rows


class BatchViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Batches of service requests. POST a file (multipart ``file``) or JSON ``{"name", "rows": [{"srv",
    "device_id", "params", "execute_at"}]}``: 202 at once; rows are checked in the background."""

    queryset = Batch.objects.select_related("organisation")
    serializer_class = BatchSerializer
    pagination_class = StandardPagination
    parser_classes = [JSONParser, MultiPartParser]
    filterset_fields = ["state"]

    @extend_schema(request={
        "application/json": BatchRowsSerializer,
        "multipart/form-data": inline_serializer("BatchFile", {
            "name": serializers.CharField(required=False),
            "file": serializers.FileField(help_text="CSV or JSON with columns srv, device_id, params_json, "
                                                    "execute_at")})},
        responses={202: BatchSerializer})
    def create(self, request, *args, **kwargs):
        import json

        upload = request.FILES.get("file")
        if upload is not None:
            data, filename = upload.read(), upload.name
            name = str(request.data.get("name", ""))
        elif request.content_type.startswith("multipart/"):
            raise ApiValidationError({"file": ["send a file, or JSON with a list of rows"]})
        elif not isinstance(request.data, dict):
            # A JSON list, string or null as the whole body: say what the body must be.
            raise ApiValidationError({"body": ['send a JSON object {"name": ..., "rows": [...]}']})
        else:
            body = validated(BatchRowsSerializer, request)
            data, filename, name = json.dumps(body["rows"]).encode(), "rows.json", body.get("name", "")
        if not may(request.user, "adapter.batch.upload"):
            raise PermissionDenied("You belong to no organisation.")
        try:
            batch = services.batch_create(user=request.user, data=data, filename=filename, name=name)
        except ValidationError as exc:
            raise _api_error(exc)
        batch.refresh_from_db()
        return Response(BatchSerializer(batch).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses=BatchSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        batch = self.get_object()
        services.batch_cancel(batch=batch, actor=request.user)
        return Response(BatchSerializer(batch).data)

    @extend_schema(request=None, responses={200: BatchSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Four eyes: a second DCC person approves a checked DCC batch held for approval; it runs."""
        batch = _decide(services.batch_approve, batch=self.get_object(), actor=request.user)
        return Response(BatchSerializer(batch).data)

    @extend_schema(request=None, responses={200: BatchSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Four eyes: a second DCC person declines a batch held for approval; nothing of it is sent."""
        batch = _decide(services.batch_decline, batch=self.get_object(), actor=request.user)
        return Response(BatchSerializer(batch).data)

    @extend_schema(responses=BatchRowSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=AscendingKeysetPagination)
    def rows(self, request, pk=None):
        batch = self.get_object()
        queryset = batch.rows.select_related("request").order_by("row")
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(BatchRowSerializer(page, many=True).data)


class AlertSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    device_id = serializers.CharField(source="device.device_id", default=None, read_only=True, allow_null=True,
                                      help_text="null for an alert about no one device")
    region = serializers.ChoiceField(choices=Region.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Alert
        fields = ["id", "alert_id", "alert_code", "description", "organisation", "device_id", "region", "raised_at",
                  "wan_received_at", "delivered_at", "created_at", "payload"]
        read_only_fields = fields


class AlertInSerializer(serializers.Serializer):
    alert_id = serializers.CharField(max_length=80)
    alert_code = serializers.CharField(max_length=16)
    device_id = serializers.CharField(required=False, allow_blank=True, default="")
    organisation = serializers.CharField(required=False, allow_blank=True, default="",
                                         help_text="organisation code, for alerts without a device")
    raised_at = InstantField()
    wan_received_at = InstantField(required=False, allow_null=True, default=None)
    description = serializers.CharField(required=False, allow_blank=True, default="")


class AlertViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Alerts forwarded to the user. POST is the receiving endpoint of DCC's backend (DCC staff only)."""

    queryset = Alert.objects.select_related("organisation", "device")
    serializer_class = AlertSerializer
    filterset_class = AlertFilterSet
    pagination_class = KeysetPagination
    ordering_fields = []

    @extend_schema(request=AlertInSerializer, responses={201: AlertSerializer})
    def create(self, request, *args, **kwargs):
        from portal.models import Organisation

        if not may(request.user, "adapter.alert.post"):
            raise PermissionDenied("Only DCC's backend posts alerts.")
        values = dict(validated(AlertInSerializer, request))
        code = values.pop("organisation")
        organisation = Organisation.objects.filter(code=code).first() if code else None
        try:
            alert = services.alert_receive(organisation=organisation, **values)
        except ValidationError as exc:
            raise _api_error(exc)
        return Response(AlertSerializer(alert).data, status=status.HTTP_201_CREATED)


class ThresholdSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    # Required but nullable: null is the deliberate "all service requests" threshold, so leaving srv out
    # is refused (400 naming srv) rather than silently widening the threshold to every SRV.
    srv = serializers.SlugRelatedField(slug_field="code", queryset=ServiceRequestVariant.objects.all(),
                                       allow_null=True, required=True)

    class Meta:
        model = AnomalyThreshold
        fields = ["id", "organisation", "srv", "period", "limit", "note", "created_at"]
        read_only_fields = ["id", "organisation", "created_at"]


class ThresholdChangeSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    srv = serializers.SlugRelatedField(slug_field="code", read_only=True)
    limit = serializers.IntegerField(read_only=True, allow_null=True, help_text="null: delete the threshold")
    state = serializers.CharField(read_only=True, help_text="pending, approved, declined")

    class Meta:
        model = ThresholdChange
        fields = ["id", "organisation", "threshold", "srv", "period", "limit", "note", "state", "requested_by",
                  "requested_at", "decided_by", "decided_at"]
        read_only_fields = fields


class ThresholdViewSet(ScopedModelViewSet):
    """An organisation's anomaly thresholds (its own). A change that would loosen a threshold past
    DCC's floor (a higher limit, or deleting it) answers 202 with the pending change instead."""

    queryset = AnomalyThreshold.objects.select_related("organisation", "srv")
    serializer_class = ThresholdSerializer
    pagination_class = StandardPagination

    def _pending_or(self, response):
        pending = getattr(self, "pending_change", None)
        if pending is not None:
            return Response(ThresholdChangeSerializer(pending).data, status=status.HTTP_202_ACCEPTED)
        return response

    @extend_schema(responses={201: ThresholdSerializer, 202: ThresholdChangeSerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        # (a pending change has no threshold to show: the serializer is not read then)
        return self._pending_or(None) or Response(serializer.data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: ThresholdSerializer, 202: ThresholdChangeSerializer})
    def update(self, request, *args, **kwargs):
        return self._pending_or(super().update(request, *args, **kwargs))

    @extend_schema(responses={204: None, 202: ThresholdChangeSerializer})
    def destroy(self, request, *args, **kwargs):
        return self._pending_or(super().destroy(request, *args, **kwargs))

    def _saved(self, serializer, result):
        # A pending change is answered by _pending_or; the serializer keeps the threshold as it is.
        if isinstance(result, ThresholdChange):
            self.pending_change = result
        else:
            serializer.instance = result

    def perform_create(self, serializer):
        if not may(self.request.user, "adapter.anomalythreshold.set"):
            raise PermissionDenied("Only staff of an organisation set its own thresholds.")
        try:
            # period and note have model defaults, so the serializer lets them be left out.
            values = {"period": ThresholdPeriod.DAY, "note": "", **serializer.validated_data}
            self._saved(serializer, services.threshold_save(organisation=self.request.user.organisation,
                                                            actor=self.request.user, **values))
        except ValidationError as exc:
            raise _api_error(exc)

    def perform_update(self, serializer):
        values = {"srv": serializer.instance.srv, "period": serializer.instance.period,
                  "limit": serializer.instance.limit, "note": serializer.instance.note, **serializer.validated_data}
        try:
            self._saved(serializer, services.threshold_save(organisation=serializer.instance.organisation,
                                                            threshold=serializer.instance, actor=self.request.user,
                                                            **values))
        except ValidationError as exc:
            raise _api_error(exc)

    def perform_destroy(self, instance):
        self.pending_change = services.threshold_delete(threshold=instance, actor=self.request.user)


class ThresholdChangeViewSet(ScopedReadOnlyViewSet):
    """Changes that would loosen a threshold past DCC's floor: pending until a DCC person approves
    (applied) or declines them (``POST .../approve``, ``.../decline``: 403 unless DCC, 409 once decided)."""

    queryset = ThresholdChange.objects.select_related("organisation", "srv")
    serializer_class = ThresholdChangeSerializer
    pagination_class = StandardPagination
    filterset_fields = ["state"]

    @extend_schema(request=None, responses={200: ThresholdChangeSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        change = _decide(services.threshold_change_decide, change=self.get_object(), actor=request.user,
                         approve=True)
        return Response(ThresholdChangeSerializer(change).data)

    @extend_schema(request=None, responses={200: ThresholdChangeSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        change = _decide(services.threshold_change_decide, change=self.get_object(), actor=request.user,
                         approve=False)
        return Response(ThresholdChangeSerializer(change).data)


class ThresholdFloorSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", queryset=Organisation.objects.all())
    srv = serializers.SlugRelatedField(slug_field="code", queryset=ServiceRequestVariant.objects.all(),
                                       allow_null=True, required=True)

    class Meta:
        model = ThresholdFloor
        fields = ["id", "organisation", "srv", "period", "limit", "set_by", "created_at"]
        read_only_fields = ["id", "set_by", "created_at"]


class ThresholdFloorViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, ScopedReadOnlyViewSet):
    """DCC's floors: the loosest threshold an organisation may set without DCC's approval (DCC
    sets and removes them; an organisation reads its own). POST sets (or moves) the floor of
    (organisation, srv, period) and tightens the organisation's threshold to it at once."""

    queryset = ThresholdFloor.objects.select_related("organisation", "srv")
    serializer_class = ThresholdFloorSerializer
    pagination_class = StandardPagination

    def create(self, request, *args, **kwargs):
        # Refused before the body is read: an organisation code is never confirmed to an outsider.
        if not may(request.user, "adapter.thresholdfloor.set"):
            raise PermissionDenied("Only DCC sets threshold floors.")
        return super().create(request, *args, **kwargs)

    def perform_create(self, serializer):
        values = {"period": ThresholdPeriod.DAY, **serializer.validated_data}
        try:
            serializer.instance = _decide(services.threshold_floor_set, actor=self.request.user, **values)
        except ValidationError as exc:
            raise _api_error(exc)

    def perform_destroy(self, instance):
        _decide(services.threshold_floor_delete, floor=instance, actor=self.request.user)


class CertificateViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Certificates of critical-command signing: one's organisation's (DCC: all). POST uploads one
    (pending until a DCC administrator approves it); rotation is upload, approve, revoke the old."""

    queryset = Certificate.objects.select_related("organisation", "uploaded_by", "approved_by")
    serializer_class = CertificateSerializer
    pagination_class = StandardPagination
    filterset_fields = ["state", "usage"]

    @extend_schema(request=CertificateUploadSerializer, responses={201: CertificateSerializer})
    def create(self, request, *args, **kwargs):
        data = validated(CertificateUploadSerializer, request)
        if request.user.organisation is None:
            raise PermissionDenied("You belong to no organisation.")
        try:
            certificate = services.certificate_upload(organisation=request.user.organisation, pem=data["pem"],
                                                      actor=request.user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc))
        except ValidationError as exc:
            raise _api_error(exc)
        return Response(CertificateSerializer(certificate).data, status=status.HTTP_201_CREATED)

    def _decide(self, decide):
        try:
            certificate = decide(certificate=self.get_object(), actor=self.request.user)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc))
        except ValidationError as exc:
            raise _api_error(exc)
        return Response(CertificateSerializer(certificate).data)

    @extend_schema(request=None, responses=CertificateSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(services.certificate_approve)

    @extend_schema(request=None, responses=CertificateSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return self._decide(services.certificate_revoke)


class SrvViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """The SRV catalogue with each SRV's parameter schema."""

    queryset = ServiceRequestVariant.objects.all()
    serializer_class = SrvSerializer
    lookup_field = "code"
    lookup_value_regex = r"[0-9.]+"
    pagination_class = None


ROUTES = [
    ("adapter/requests", ServiceRequestViewSet, "adapter-request"),
    ("adapter/batches", BatchViewSet, "adapter-batch"),
    ("adapter/alerts", AlertViewSet, "adapter-alert"),
    ("adapter/thresholds", ThresholdViewSet, "adapter-threshold"),
    ("adapter/threshold-changes", ThresholdChangeViewSet, "adapter-threshold-change"),
    ("adapter/threshold-floors", ThresholdFloorViewSet, "adapter-threshold-floor"),
    ("adapter/srvs", SrvViewSet, "adapter-srv"),
    ("adapter/certificates", CertificateViewSet, "adapter-certificate"),
]

# Rollouts' API lives in its own module (it takes StateConflict and _api_error from this one, which
# is why it is imported last).
from adapter.rollout_api import ROUTES as ROLLOUT_ROUTES  # noqa: E402

ROUTES += ROLLOUT_ROUTES
