"""REST API of the governance registers. Every viewset is scoped (portal.api); writes go through
workshops.services. Nothing here can be deleted: actions and RAID items are closed, not removed,
and the other registers keep their history the same way."""
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action as api_action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from portal.access import may
from portal.api import ScopedPermission, ScopedViewSetMixin, validated
from portal.models import Organisation, User
from portal.scoping import VIEW, get_scoped_or_404
from workshops import choices, models, selectors, services
from workshops.filtersets import (
    ActionFilterSet,
    CommentFilterSet,
    ConsultationFilterSet,
    DocumentFilterSet,
    DocumentVersionFilterSet,
    MeetingFilterSet,
    RaidFilterSet,
)


class NoDeleteViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                      mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """List, detail, create, update; no DELETE. ``service`` does the writes (a register's one
    save function: without the object to create, with it to update), or ``create_service`` and
    ``update_service`` where the two differ."""

    service = None
    create_service = None
    update_service = None
    update_key = None  # the service's keyword for the object being updated (default: the model's name)

    def perform_create(self, serializer):
        create = type(self).create_service or type(self).service
        serializer.instance = create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        update = type(self).update_service or type(self).service
        key = self.update_key or type(serializer.instance)._meta.model_name
        serializer.instance = update(actor=self.request.user, **{key: serializer.instance}, **serializer.validated_data)


def choice_field(options, **kwargs):
    """A choice field documented with its enum inline: several registers (and other apps) have
    fields named kind/status/state with different choice sets, which would otherwise collide as
    named enum components in the OpenAPI schema."""
    # Wrapped in allOf so the enum post-processing hook leaves it inline.
    schema = {"allOf": [{"type": "string"}, {"enum": [value for value, _ in options]}]}
    field_class = extend_schema_field(schema)(type("InlineChoiceField", (serializers.ChoiceField,), {}))
    return field_class(choices=options, **kwargs)


@extend_schema_field({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
                      "example": "10:00"})
class ClockTimeField(serializers.TimeField):
    """A wall-clock time of day ("HH:MM" or "HH:MM:SS" in; "HH:MM:SS" out). Documented as a plain string
    with a pattern: OpenAPI's format "time" (RFC 3339 partial-time plus offset) would demand a UTC offset
    that a meeting's local start time does not have."""


def people_field(**kwargs):
    return serializers.SlugRelatedField(slug_field="username", queryset=User.objects.all(), **kwargs)


def org_field(**kwargs):
    return serializers.SlugRelatedField(slug_field="code", queryset=Organisation.objects.all(), **kwargs)


# --- Meetings ------------------------------------------------------------------------------

class MeetingSeriesSerializer(serializers.ModelSerializer):
    kind = choice_field(choices.MeetingKind.choices, required=False)
    class Meta:
        model = models.MeetingSeries
        fields = ["id", "code", "name", "kind", "action_prefix", "description"]


class MeetingSeriesViewSet(NoDeleteViewSet):
    """Meeting series (SDAG board, workshops, 1:1s)."""

    queryset = models.MeetingSeries.objects.all()
    serializer_class = MeetingSeriesSerializer
    filterset_fields = ["kind", "code"]
    service = services.series_save
    update_key = "series"


class MeetingSerializer(serializers.ModelSerializer):
    attendees = people_field(many=True, required=False)
    organisations = org_field(many=True, required=False)
    kind = choice_field(choices.MeetingKind.choices, required=False)
    start = ClockTimeField()
    end = ClockTimeField()

    class Meta:
        model = models.Meeting
        fields = ["id", "series", "number", "title", "kind", "date", "start", "end", "venue", "attendees",
                  "organisations", "minutes"]


class MeetingViewSet(NoDeleteViewSet):
    """Meetings and workshops: number, date, times, venue, attendees; agenda items hang off them."""

    queryset = models.Meeting.objects.select_related("series").prefetch_related("attendees", "organisations")
    serializer_class = MeetingSerializer
    filterset_class = MeetingFilterSet
    ordering_fields = ["date", "number"]
    service = services.meeting_save


class AgendaItemSerializer(serializers.ModelSerializer):
    presenters = people_field(many=True, required=False)
    position = serializers.IntegerField(required=False, min_value=1)
    start = ClockTimeField(required=False, allow_null=True)
    end = ClockTimeField(required=False, allow_null=True)

    class Meta:
        model = models.AgendaItem
        fields = ["id", "meeting", "position", "start", "end", "title", "presenters", "notes", "raid_items",
                  "documents", "consultations"]


class AgendaItemViewSet(NoDeleteViewSet):
    """Timed agenda items with presenters and the registers they discuss."""

    queryset = models.AgendaItem.objects.prefetch_related("presenters", "raid_items", "documents", "consultations")
    serializer_class = AgendaItemSerializer
    filterset_fields = ["meeting"]
    service = services.agenda_item_save
    update_key = "item"


class AgendaOutcomeSerializer(serializers.ModelSerializer):
    kind = choice_field(choices.OutcomeKind.choices)
    class Meta:
        model = models.AgendaOutcome
        fields = ["id", "agenda_item", "kind", "text", "action", "created_at"]
        read_only_fields = ["action", "created_at"]


class AgendaOutcomeViewSet(ScopedViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, viewsets.GenericViewSet):
    """Decisions and information recorded against agenda items (actions: POST /actions/)."""

    queryset = models.AgendaOutcome.objects.all()
    serializer_class = AgendaOutcomeSerializer
    filterset_fields = ["agenda_item", "kind"]

    def perform_create(self, serializer):
        serializer.instance = services.agenda_outcome_add(actor=self.request.user, **serializer.validated_data)


# --- Actions -------------------------------------------------------------------------------

class ActionUpdateSerializer(serializers.ModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                          help_text="Username of the author; null if recorded without one")
    status_from = choice_field([("", ""), *choices.ActionStatus.choices], read_only=True)
    status_to = choice_field([("", ""), *choices.ActionStatus.choices], read_only=True)

    class Meta:
        model = models.ActionUpdate
        fields = ["id", "action", "date", "text", "author", "status_from", "status_to", "created_at"]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.STR)
class DueField(serializers.Field):
    """ISO date, DD.MM.YY, DD/MM/YYYY or "tbc" in; ISO date or "tbc" out."""

    def to_representation(self, value):
        return value.isoformat() if value else "tbc"

    def to_internal_value(self, data):
        try:
            return services.parse_date_or_tbc(str(data) if data is not None else "")
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict["due"][0])


class MeetingOfAction(serializers.PrimaryKeyRelatedField):
    """An action's meeting: required when an action is raised through the API, but null in answers
    for an action imported from a register without one (workshops.importers accepts such rows)."""


class MeetingOfActionSchema(OpenApiSerializerFieldExtension):
    """Documents MeetingOfAction as it behaves: a meeting id in requests, nullable in responses only
    (with split request/response components, each direction gets its own schema)."""

    target_class = MeetingOfAction

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "response":
            schema["nullable"] = True
        return schema


class ActionSerializer(serializers.ModelSerializer):
    meeting = MeetingOfAction(queryset=models.Meeting.objects.all(),
                              help_text="the meeting that raised the action (null in answers for an "
                                        "imported action without one)")
    owners = people_field(many=True, required=False)
    due = DueField(required=False, help_text="YYYY-MM-DD, DD.MM.YY, DD/MM/YYYY or tbc")
    overdue = serializers.BooleanField(source="is_overdue", read_only=True)
    updates = ActionUpdateSerializer(many=True, read_only=True)
    status = choice_field(choices.ActionStatus.choices, read_only=True)

    class Meta:
        model = models.Action
        fields = ["id", "reference", "meeting", "agenda_item", "title", "text", "owners", "all_members", "due",
                  "status", "overdue", "reopened_count", "updates", "created_at", "updated_at"]
        read_only_fields = ["reference", "status", "reopened_count", "created_at", "updated_at"]

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["due"] = data.get("due") or "tbc"  # DRF skips field serialisation for None
        return data

    def validate(self, attrs):
        if self.instance is not None and ("meeting" in attrs or "agenda_item" in attrs):
            if attrs.get("meeting", self.instance.meeting) != self.instance.meeting or \
                    attrs.get("agenda_item", self.instance.agenda_item) != self.instance.agenda_item:
                raise ValidationError({"meeting": "An action stays with the meeting that raised it."})
            attrs.pop("meeting", None)
            attrs.pop("agenda_item", None)
        return attrs


class StatusSerializer(serializers.Serializer):
    status = choice_field(choices.ActionStatus.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="")


class NewUpdateSerializer(serializers.Serializer):
    text = serializers.CharField()
    date = serializers.DateField(required=False, allow_null=True, default=None)


class ActionViewSet(NoDeleteViewSet):
    """The actions log. Creating an action allocates its reference from the meeting
    (SDAG_<meeting>.<nn>); status changes (and reopenings) go through POST .../status/ and are
    recorded; updates are appended with POST .../updates/. Actions cannot be deleted."""

    queryset = models.Action.objects.select_related("meeting").prefetch_related("owners", "updates__author")
    serializer_class = ActionSerializer
    filterset_class = ActionFilterSet
    ordering_fields = ["reference", "due", "status", "updated_at"]
    create_service = services.action_raise
    update_service = services.action_edit

    @extend_schema(request=StatusSerializer, responses=ActionSerializer)
    @api_action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        action = self.get_object()
        data = validated(StatusSerializer, request)
        action = services.action_set_status(action=action, actor=request.user, **data)
        return Response(ActionSerializer(models.Action.objects.get(pk=action.pk)).data)

    @extend_schema(request=NewUpdateSerializer, responses={201: ActionUpdateSerializer})
    @api_action(detail=True, methods=["post"])
    def updates(self, request, pk=None):
        action = self.get_object()
        data = validated(NewUpdateSerializer, request)
        update = services.action_update(action=action, actor=request.user, **data)
        return Response(ActionUpdateSerializer(update).data, status=status.HTTP_201_CREATED)


class ActionUpdateViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Dated updates of actions (append-only: add them with POST /actions/{id}/updates/)."""

    queryset = models.ActionUpdate.objects.select_related("author")
    serializer_class = ActionUpdateSerializer
    filterset_fields = ["action"]


# --- RAID ----------------------------------------------------------------------------------

class TopicSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.Topic
        fields = ["id", "name", "is_active"]


class TopicViewSet(NoDeleteViewSet):
    """The editable list of RAID topics (HAN, 868 MHz development, ALCS, …)."""

    queryset = models.Topic.objects.all()
    serializer_class = TopicSerializer
    filterset_fields = ["is_active"]
    service = services.topic_save


class RaidItemSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(read_only=True)
    originator = org_field()
    owner = people_field(required=False, allow_null=True)
    kind = choice_field(choices.RaidKind.choices)
    status = choice_field(choices.RaidStatus.choices, read_only=True)

    class Meta:
        model = models.RaidItem
        fields = ["id", "reference", "kind", "topic", "title", "description", "originator", "owner", "status",
                  "resolution", "rejection_reason", "likelihood", "impact", "score", "actions", "documents",
                  "closure_requested_at", "closed_at", "created_at", "updated_at"]
        read_only_fields = ["status", "resolution", "rejection_reason", "score", "closure_requested_at",
                            "closed_at", "created_at", "updated_at"]


class ResolutionSerializer(serializers.Serializer):
    resolution = serializers.CharField()


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField()


class RaidItemViewSet(NoDeleteViewSet):
    """The consolidated issues log. POST .../close/ sends an item to its originator; the
    originator's people (or DCC) POST .../confirm/ or .../reject/ (with a reason, re-opening it).
    RAID items cannot be deleted."""

    queryset = models.RaidItem.objects.select_related("topic", "originator", "owner").prefetch_related("actions",
                                                                                                 "documents")
    serializer_class = RaidItemSerializer
    filterset_class = RaidFilterSet
    ordering_fields = ["score", "created_at", "updated_at"]
    service = services.raid_save
    update_key = "item"

    def _viewable(self, pk):
        # The originator's SDAG members may only view governance data; the service decides
        # whether they may answer for the originator.
        return get_scoped_or_404(self.request.user, models.RaidItem, VIEW, pk=pk)

    @extend_schema(request=ResolutionSerializer, responses=RaidItemSerializer)
    @api_action(detail=True, methods=["post"])
    def close(self, request, pk=None):
        item = self.get_object()
        data = validated(ResolutionSerializer, request)
        item = services.raid_close(item=item, actor=request.user, **data)
        return Response(RaidItemSerializer(item).data)

    @extend_schema(request=None, responses=RaidItemSerializer)
    @api_action(detail=True, methods=["post"])
    def confirm(self, request, pk=None):
        item = services.raid_confirm(item=self._viewable(pk), actor=request.user)
        return Response(RaidItemSerializer(item).data)

    @extend_schema(request=ReasonSerializer, responses=RaidItemSerializer)
    @api_action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        item = self._viewable(pk)
        data = validated(ReasonSerializer, request)
        item = services.raid_reject(item=item, actor=request.user, **data)
        return Response(RaidItemSerializer(item).data)


# --- Documents -----------------------------------------------------------------------------

class DocumentSerializer(serializers.ModelSerializer):
    owner = org_field()
    category = choice_field(choices.DocumentCategory.choices, required=False)

    class Meta:
        model = models.Document
        fields = ["id", "category", "reference", "timing", "group", "name", "content", "owner", "current_version"]
        read_only_fields = ["current_version"]


class DocumentViewSet(NoDeleteViewSet):
    """Design documents and Schedule 6.3 products: group, timing, owner, current version."""

    queryset = models.Document.objects.select_related("owner")
    serializer_class = DocumentSerializer
    filterset_class = DocumentFilterSet
    service = services.document_save


class DocumentVersionSerializer(serializers.ModelSerializer):
    slipped = serializers.BooleanField(read_only=True)
    state = choice_field(choices.DistributionState.choices, required=False)

    class Meta:
        model = models.DocumentVersion
        fields = ["id", "document", "version", "planned_issue", "actual_issue", "state", "gating_milestone", "notes",
                  "slipped"]


class DocumentVersionViewSet(NoDeleteViewSet):
    """Versions with planned and actual issue dates and their distribution state; circulation
    waits for the gating milestone."""

    queryset = models.DocumentVersion.objects.select_related("document", "gating_milestone")
    serializer_class = DocumentVersionSerializer
    filterset_class = DocumentVersionFilterSet
    service = services.version_save
    update_key = "document_version"


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = models.Milestone
        fields = ["id", "name", "planned", "achieved", "description"]


class MilestoneViewSet(NoDeleteViewSet):
    """Programme milestones (e.g. ISFT release) that gate document circulation."""

    queryset = models.Milestone.objects.all()
    serializer_class = MilestoneSerializer
    service = services.milestone_save


# --- Consultations -------------------------------------------------------------------------

class ConsultationSerializer(serializers.ModelSerializer):
    is_open = serializers.SerializerMethodField()

    class Meta:
        model = models.Consultation
        fields = ["id", "version", "title", "opens", "closes", "summary", "is_open"]

    def get_is_open(self, consultation) -> bool:
        return consultation.is_open()


class ConsultationViewSet(NoDeleteViewSet):
    """Consultations on document versions; GET .../themes/ gives the comment counts by theme."""

    queryset = models.Consultation.objects.select_related("version__document")
    serializer_class = ConsultationSerializer
    filterset_class = ConsultationFilterSet
    service = services.consultation_save

    @extend_schema(responses=inline_serializer("ThemeCount", {"theme": serializers.CharField(),
                                                               "count": serializers.IntegerField()}, many=True))
    @api_action(detail=True, methods=["get"], pagination_class=None)
    def themes(self, request, pk=None):
        consultation = self.get_object()
        return Response([{"theme": t, "count": n} for t, n in selectors.theme_summary(consultation)])


class CommentSerializer(serializers.ModelSerializer):
    organisation = org_field(required=False, help_text="DCC staff only; SDAG members comment for their own")
    author = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True,
                                          help_text="Username of the author; null if recorded without one")
    disposition = choice_field(choices.Disposition.choices, required=False)

    class Meta:
        model = models.Comment
        fields = ["id", "consultation", "organisation", "author", "theme", "section", "text", "response",
                  "disposition", "created_at"]
        read_only_fields = ["created_at"]


class CommentPermission(ScopedPermission):
    """SDAG members may create comments (the service checks the consultation is open)."""

    def has_permission(self, request, view):
        if getattr(view, "action", None) == "create":
            return may(request.user, "workshops.comment.add")
        return super().has_permission(request, view)


class CommentViewSet(NoDeleteViewSet):
    """Consultation comments. SDAG members and DCC POST comments while the consultation is open;
    DCC staff answer them (PATCH response and disposition)."""

    queryset = models.Comment.objects.select_related("organisation", "author")
    serializer_class = CommentSerializer
    filterset_class = CommentFilterSet
    permission_classes = [CommentPermission]

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        for answer_only in ("response", "disposition"):
            data.pop(answer_only, None)
        consultation = get_scoped_or_404(self.request.user, models.Consultation, VIEW, pk=data.pop("consultation").pk)
        serializer.instance = services.comment_add(consultation=consultation, actor=self.request.user,
                                    today=timezone.localdate(), **data)

    def perform_update(self, serializer):
        data = serializer.validated_data
        unknown = set(data) - {"response", "disposition"}
        if unknown:
            raise ValidationError({field: "Only the response and disposition can be changed." for field in unknown})
        comment = serializer.instance
        serializer.instance = services.comment_respond(comment=comment, actor=self.request.user,
                                    response=data.get("response", comment.response),
                                    disposition=data.get("disposition", comment.disposition))


ROUTES = [
    ("workshops/series", MeetingSeriesViewSet, "meeting-series"),
    ("workshops/meetings", MeetingViewSet, "meeting"),
    ("workshops/agenda-items", AgendaItemViewSet, "agenda-item"),
    ("workshops/agenda-outcomes", AgendaOutcomeViewSet, "agenda-outcome"),
    ("workshops/actions", ActionViewSet, "action"),
    ("workshops/action-updates", ActionUpdateViewSet, "action-update"),
    ("workshops/topics", TopicViewSet, "topic"),
    ("workshops/raid", RaidItemViewSet, "raid-item"),
    ("workshops/documents", DocumentViewSet, "document"),
    ("workshops/versions", DocumentVersionViewSet, "document-version"),
    ("workshops/milestones", MilestoneViewSet, "milestone"),
    ("workshops/consultations", ConsultationViewSet, "consultation"),
    ("workshops/comments", CommentViewSet, "comment"),
]
