"""REST API of rollouts (/api/v1/adapter/rollouts/): draw one up, read it with its waves' counts and
its changes, start it or a ready wave, pause, resume, cancel, and dry-run it (counts, and every
device's outcome as JSON or CSV). Thin: each action calls adapter.rollouts."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from adapter import failures, rollouts, services
from adapter.api import StateConflict, _api_error
from adapter.choices import RolloutState, WaveSizeKind
from adapter.models import Rollout, RolloutEvent, RolloutRetry, RolloutWave
from portal.api import ScopedReadOnlyViewSet, validated
from portal.pagination import StandardPagination
from portal.savedfilters.models import SavedFilter
from portal.tabular import export_response


class WaveInSerializer(serializers.Serializer):
    size = serializers.DecimalField(max_digits=12, decimal_places=4, help_text="Devices, or per cent")
    size_kind = serializers.ChoiceField(choices=WaveSizeKind.choices, default=WaveSizeKind.PERCENT)
    success_threshold = serializers.DecimalField(max_digits=5, decimal_places=2, default=95, help_text=(
        "% of the wave answered I0 at which the next wave starts"))
    error_threshold = serializers.DecimalField(max_digits=5, decimal_places=2, default=5, help_text=(
        "% of the wave failed at which the rollout pauses itself"))
    auto_advance = serializers.BooleanField(default=True, help_text="start the next wave without a person")


class ThrottleSerializer(serializers.Serializer):
    """A rollout's throttle: each figure a whole number, or null for no limit. The region figures
    apply to each CSP region on its own (the device's region in the register)."""

    max_per_second = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                              max_value=rollouts.MAX_RATE, help_text="most requests sent per second")
    max_in_flight = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                             max_value=rollouts.MAX_RATE, help_text=(
                                                 "most requests handed over and not yet answered"))
    region_max_per_second = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                                     max_value=rollouts.MAX_RATE, help_text=(
                                                         "most per second to any one region"))
    region_max_in_flight = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1,
                                                    max_value=rollouts.MAX_RATE, help_text=(
                                                        "most in flight in any one region"))


class ThrottleChangeSerializer(ThrottleSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class RolloutInSerializer(serializers.Serializer):
    """A rollout to draw up: either ``device_ids`` or ``saved_filter`` (one of one's saved filters
    of the device register, evaluated when the rollout starts)."""

    name = serializers.CharField(max_length=200)
    srv = serializers.CharField(help_text="SRV code, e.g. 4.1.1")
    params = serializers.DictField(required=False, default=dict)
    device_ids = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    saved_filter = serializers.IntegerField(required=False, allow_null=True, default=None)
    from_rollout = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, help_text=(
        "an earlier rollout of one's organisation: its failed devices are the population"))
    failure_class = serializers.ChoiceField(choices=[(c.key, c.label) for c in failures.FAILURE_CLASSES],
                                            required=False, allow_blank=True, default="", help_text=(
                                                "with from_rollout: only its failures of this class"))
    waves = WaveInSerializer(many=True, help_text="in order; the last takes whatever is left")
    throttle = ThrottleSerializer(required=False, help_text="no limit where left out")
    window_start = serializers.TimeField(required=False, allow_null=True, default=None, help_text=(
        "the time window's start, Europe/London, e.g. 01:00 (with window_end; neither: any time)"))
    window_end = serializers.TimeField(required=False, allow_null=True, default=None, help_text=(
        "the time window's end, Europe/London; before the start: it crosses midnight"))


class WindowSerializer(serializers.Serializer):
    window_start = serializers.TimeField(allow_null=True, help_text="Europe/London; null (both): any time")
    window_end = serializers.TimeField(allow_null=True, help_text="Europe/London; before the start: across midnight")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class RolloutReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class WaveSerializer(serializers.ModelSerializer):
    batch = serializers.PrimaryKeyRelatedField(read_only=True)
    counts = serializers.SerializerMethodField()

    class Meta:
        model = RolloutWave
        fields = ["ordinal", "size_kind", "size", "success_threshold", "error_threshold", "auto_advance", "state",
                  "member_count", "batch", "started_at", "done_at", "acknowledged_failures", "counts"]
        read_only_fields = fields

    def get_counts(self, wave) -> dict:
        counts = rollouts.wave_counts(wave, refused_by_code=True)
        return {"by_state": counts.by_state, "by_outcome": counts.by_outcome, "successes": counts.successes,
                "failures": counts.failures, "terminal": counts.terminal, "checked": counts.checked,
                "by_class": rollouts.class_counts(wave)}


class RetrySerializer(serializers.ModelSerializer):
    wave = serializers.IntegerField(source="wave.ordinal", default=None, read_only=True, allow_null=True)
    batch = serializers.PrimaryKeyRelatedField(read_only=True)
    created_by = serializers.StringRelatedField()

    class Meta:
        model = RolloutRetry
        fields = ["id", "failure_class", "wave", "attempt", "member_count", "batch", "created_by", "created_at",
                  "not_before", "released_at", "linked_at", "reason"]
        read_only_fields = fields


class ExtendSerializer(serializers.Serializer):
    device_ids = serializers.ListField(child=serializers.CharField(max_length=40), min_length=1,
                                       max_length=1_000_000)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class RetryInSerializer(serializers.Serializer):
    failure_class = serializers.ChoiceField(choices=[(c.key, c.label) for c in failures.FAILURE_CLASSES], help_text=(
        "; ".join(f"{c.key}: {c.explanation} ({'retried' if c.retried else 'not retried'})"
                  for c in failures.FAILURE_CLASSES)))
    wave = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=1000,
                                    help_text="a wave's ordinal; null: the failed of every wave")
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class RolloutEventSerializer(serializers.ModelSerializer):
    actor = serializers.StringRelatedField()
    wave = serializers.IntegerField(source="wave.ordinal", default=None, read_only=True, allow_null=True)

    class Meta:
        model = RolloutEvent
        fields = ["at", "actor", "wave", "from_state", "to_state", "reason"]


ESTIMATE = inline_serializer("RolloutEstimate", {
    "remaining": serializers.IntegerField(), "rate": serializers.FloatField(allow_null=True),
    "seconds": serializers.IntegerField(allow_null=True), "basis": serializers.CharField()})


class RolloutSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    srv = serializers.SlugRelatedField(slug_field="code", read_only=True)
    state = serializers.CharField(read_only=True, help_text=", ".join(RolloutState.values))
    waves = WaveSerializer(many=True, read_only=True)
    retries = RetrySerializer(many=True, read_only=True)
    approved_by = serializers.CharField(read_only=True, allow_null=True)  # null: nobody decided
    estimate = serializers.SerializerMethodField(help_text=(
        "remaining: members without a final outcome; rate: per second (its throttle, else the last ten minutes'); "
        "seconds: the time to finish at that rate (null: no rate to go by); basis: which rate"))
    declined_by = serializers.CharField(read_only=True, allow_null=True)

    @extend_schema_field(ESTIMATE)
    def get_estimate(self, rollout) -> dict:
        found = rollouts.estimate(rollout)
        return {"remaining": found.remaining, "rate": found.rate, "seconds": found.seconds, "basis": found.basis}

    class Meta:
        model = Rollout
        fields = ["id", "name", "organisation", "srv", "params", "state", "population_source", "saved_filter",
                  "source_rollout", "source_failure_class",
                  "population_query", "population_size", "duplicates_dropped", "dry_run_counts", "dry_run_at",
                  "max_per_second", "max_in_flight", "region_max_per_second", "region_max_in_flight",
                  "window_start", "window_end", "needs_approval", "approval_reason", "approved_by", "approved_at",
                  "declined_by", "declined_at",
                  "created_at", "started_at", "ended_at", "waves", "retries", "estimate"]
        read_only_fields = fields


DRY_RUN = inline_serializer("RolloutDryRun", {
    "counts": serializers.DictField(child=serializers.IntegerField(), help_text=(
        "eligible, quarantined, or the E-code (E2, E19, E4, E11, E5, E40)")),
    "checked_at": serializers.DateTimeField(),
    "devices": serializers.ListField(child=serializers.DictField(), required=False, help_text=(
        "one {device_id, outcome, message} per device (omitted unless ?devices=1)")),
})


class RolloutViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Rollouts: one SRV to many devices in waves under success and error thresholds."""

    queryset = Rollout.objects.select_related("organisation", "srv").prefetch_related("waves__batch", "retries__wave",
                                                                                      "retries__created_by")
    serializer_class = RolloutSerializer
    pagination_class = StandardPagination
    filterset_fields = ["state"]

    def _run(self, call, **kwargs):
        try:
            return call(**kwargs)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc))
        except services.Conflict as exc:
            raise StateConflict({exc.field: [exc.message]})
        except ValidationError as exc:
            raise _api_error(exc)

    def _answer(self, rollout, code=status.HTTP_200_OK):
        return Response(RolloutSerializer(self.get_queryset().get(pk=rollout.pk)).data, status=code)

    @extend_schema(request=RolloutInSerializer, responses={201: RolloutSerializer})
    def create(self, request, *args, **kwargs):
        data = validated(RolloutInSerializer, request)
        saved_filter = None
        if data["saved_filter"] is not None:
            saved_filter = SavedFilter.objects.filter(pk=data["saved_filter"], user=request.user).first()
            if saved_filter is None:
                raise _api_error(ValidationError({"saved_filter": "not one of your saved filters"}))
        from_rollout = None
        if data["from_rollout"] is not None:
            from_rollout = self.get_queryset().filter(pk=data["from_rollout"]).first()
            if from_rollout is None:
                raise _api_error(ValidationError({"from_rollout": "not a rollout you may see"}))
        rollout = self._run(rollouts.rollout_create, actor=request.user, name=data["name"], srv=data["srv"],
                            params=data["params"], waves=[dict(w) for w in data["waves"]],
                            device_list="\n".join(data["device_ids"]), saved_filter=saved_filter,
                            throttle=dict(data.get("throttle") or {}),
                            window=(data["window_start"], data["window_end"]), from_rollout=from_rollout,
                            failure_class=data["failure_class"])
        return self._answer(rollout, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def start(self, request, pk=None):
        """Freeze the population and start the first wave (a draft only)."""
        return self._answer(self._run(rollouts.rollout_start, rollout=self.get_object(), actor=request.user))

    @extend_schema(request=None, responses={200: RolloutSerializer, 403: None, 404: None, 409: None},
                   parameters=[OpenApiParameter("ordinal", int, OpenApiParameter.PATH)])
    @action(detail=True, methods=["post"], url_path=r"waves/(?P<ordinal>[0-9]+)/start")
    def start_wave(self, request, pk=None, ordinal=None):
        """Start a wave that waits, ready, for a person."""
        rollout = self.get_object()
        wave = rollout.waves.filter(ordinal=int(ordinal)).first()
        if wave is None:
            raise NotFound(f"rollout {rollout.pk} has no wave {ordinal}")
        self._run(rollouts.wave_start, wave=wave, actor=request.user)
        return self._answer(rollout)

    def _with_reason(self, service):
        rollout = self.get_object()  # first: another's rollout is a 404 whatever the body says
        reason = validated(RolloutReasonSerializer, self.request)["reason"]
        return self._answer(self._run(service, rollout=rollout, actor=self.request.user, reason=reason))

    @extend_schema(request=RolloutReasonSerializer, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        """Emergency stop: nothing more is sent; requests already handed over finish."""
        return self._with_reason(rollouts.rollout_pause)

    @extend_schema(request=RolloutReasonSerializer, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        """Go on after a pause, accepting the failures so far."""
        return self._with_reason(rollouts.rollout_resume)

    @extend_schema(request=RolloutReasonSerializer, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Requests not yet sent are cancelled; waves not started never start."""
        return self._with_reason(rollouts.rollout_cancel)

    @extend_schema(request=ThrottleChangeSerializer, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def throttle(self, request, pk=None):
        """Change the throttle (every figure given; null or left out: no limit) of a rollout not ended."""
        rollout = self.get_object()  # first: another's rollout is a 404 whatever the body says
        data = dict(validated(ThrottleChangeSerializer, request))
        reason = data.pop("reason")
        return self._answer(self._run(rollouts.rollout_throttle, rollout=rollout, actor=request.user,
                                      throttle=data, reason=reason))

    @extend_schema(request=RolloutReasonSerializer, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Four eyes: a second person (DCC, never its starter) approves a rollout awaiting approval."""
        return self._with_reason(rollouts.rollout_approve)

    @extend_schema(request=RolloutReasonSerializer, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        """Four eyes: a second person declines a rollout awaiting approval; it is cancelled."""
        return self._with_reason(rollouts.rollout_decline)

    @extend_schema(request=ExtendSerializer, responses={200: RolloutSerializer, 400: None, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def extend(self, request, pk=None):
        """Add devices to a running or paused rollout as a new last wave; a device already in it is refused."""
        rollout = self.get_object()  # first: another's rollout is a 404 whatever the body says
        data = validated(ExtendSerializer, request)
        self._run(rollouts.rollout_extend, rollout=rollout, actor=request.user,
                  device_list="\n".join(data["device_ids"]), reason=data["reason"])
        return self._answer(rollout)

    @extend_schema(request=RetryInSerializer, responses={201: RetrySerializer, 400: None, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        """Retry the devices whose latest attempt failed with a class that is retried: new requests with
        new ids, sent after the back-off (it doubles with each further attempt)."""
        rollout = self.get_object()  # first: another's rollout is a 404 whatever the body says
        data = validated(RetryInSerializer, request)
        retry = self._run(rollouts.rollout_retry, rollout=rollout, actor=request.user,
                          failure_class=data["failure_class"], wave=data["wave"], reason=data["reason"])
        return Response(RetrySerializer(retry).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=WindowSerializer, responses={200: RolloutSerializer, 403: None, 409: None})
    @action(detail=True, methods=["post"])
    def window(self, request, pk=None):
        """Change the time window (Europe/London; both null: any time) of a rollout not ended."""
        rollout = self.get_object()  # first: another's rollout is a 404 whatever the body says
        data = validated(WindowSerializer, request)
        return self._answer(self._run(rollouts.rollout_window, rollout=rollout, actor=request.user,
                                      start=data["window_start"], end=data["window_end"], reason=data["reason"]))

    @extend_schema(request=None, responses={200: DRY_RUN, 403: None}, parameters=[
        OpenApiParameter("devices", bool, description="include every device's outcome"),
        OpenApiParameter("format", str, enum=["json", "csv"], description="csv: every device's outcome as CSV")])
    @action(detail=True, methods=["post"], url_path="dry-run")
    def dry_run(self, request, pk=None):
        """Check every device as a real send would, creating and sending nothing."""
        rollout = self.get_object()
        result = self._run(rollouts.rollout_dry_run, rollout=rollout, actor=request.user)
        if request.query_params.get("format") == "csv":
            return export_response(f"rollout-{rollout.pk}-dry-run", ["device_id", "outcome", "message"],
                                   result.rows)
        body = {"counts": result.counts, "checked_at": result.checked_at}
        if request.query_params.get("devices") in ("1", "true"):
            body["devices"] = [{"device_id": d, "outcome": o, "message": m} for d, o, m in result.rows]
        return Response(body)

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY,
                              (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"):
                                  OpenApiTypes.BINARY},
                   parameters=[OpenApiParameter("export", str, enum=["csv", "xlsx"], description="csv or xlsx")])
    @action(detail=True, methods=["get"])
    def results(self, request, pk=None):
        """One row per device: wave, attempt, request id, state, outcome, failure class, message and times."""
        rollout = self.get_object()
        return export_response(f"rollout-{rollout.pk}-results", rollouts.RESULT_HEADERS, rollouts.result_rows(rollout),
                               fmt=request.query_params.get("export", "csv"), title="results")

    @extend_schema(responses=RolloutEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def events(self, request, pk=None):
        """Every change of the rollout's state: who, when, from, to, why."""
        rollout = self.get_object()
        page = self.paginate_queryset(rollout.events.select_related("actor", "wave").order_by("at", "id"))
        return self.get_paginated_response(RolloutEventSerializer(page, many=True).data)


ROUTES = [("adapter/rollouts", RolloutViewSet, "adapter-rollout")]
