"""API building blocks shared by every app: pagination and the scoped viewset base."""
from rest_framework import permissions, viewsets
from rest_framework.exceptions import PermissionDenied

from portal.scoping import CHANGE, VIEW, can_create, scope


class ScopedPermission(permissions.IsAuthenticated):
    """Object access is decided by the scoped queryset (404 for others' objects);
    this only refuses writes to users who may not change the model at all."""

    def has_permission(self, request, view):
        if not super().has_permission(request, view):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if getattr(view, "action", None) == "create":
            return can_create(request.user, view.get_queryset().model)
        return True


class ScopedViewSetMixin:
    """Every viewset's queryset passes portal.scoping.scope: reads see what the user may view,
    writes find only what the user may change (so others' objects are 404)."""

    permission_classes = [ScopedPermission]

    def get_queryset(self):
        queryset = super().get_queryset()
        action = VIEW if self.request.method in permissions.SAFE_METHODS else CHANGE
        return scope(self.request.user, queryset, action)

    def check_create_organisation(self, organisation):
        if not can_create(self.request.user, self.get_queryset().model, organisation):
            raise PermissionDenied("You may not create records for that organisation.")


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


# --- The portal's own endpoints: organisations, people, audit trail -------------------------
from auditlog.models import LogEntry  # noqa: E402
from drf_spectacular.types import OpenApiTypes  # noqa: E402
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view  # noqa: E402
from rest_framework import serializers  # noqa: E402

from portal import selectors  # noqa: E402
from portal.models import Organisation, User  # noqa: E402


class OrganisationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Organisation
        fields = ["id", "code", "name", "kind", "provider_code", "region", "duis_roles", "user_id", "is_active"]


class PersonSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    name = serializers.CharField(source="get_full_name", read_only=True)

    class Meta:
        model = User
        fields = ["id", "username", "name", "initials", "organisation", "role"]


class AuditEntrySerializer(serializers.ModelSerializer):
    model = serializers.SerializerMethodField()
    actor = serializers.CharField(source="actor.username", default=None, read_only=True, allow_null=True)
    action = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()

    class Meta:
        model = LogEntry
        fields = ["id", "timestamp", "actor", "action", "model", "object_pk", "object_repr", "changes"]

    def get_model(self, entry) -> str:
        return f"{entry.content_type.app_label}.{entry.content_type.model}"

    def get_action(self, entry) -> str:
        return {0: "create", 1: "update", 2: "delete", 3: "access"}.get(entry.action, str(entry.action))

    def get_changes(self, entry) -> dict:
        """Field-level {"field": [before, after]}."""
        return entry.changes_dict


class OrganisationViewSet(ScopedReadOnlyViewSet):
    queryset = Organisation.objects.all()
    serializer_class = OrganisationSerializer
    filterset_fields = ["kind", "provider_code", "region", "code"]
    lookup_field = "code"


class PersonViewSet(ScopedReadOnlyViewSet):
    queryset = User.objects.select_related("organisation").filter(is_active=True)
    serializer_class = PersonSerializer
    filterset_fields = ["role"]


@extend_schema_view(
    list=extend_schema(
        parameters=[
            OpenApiParameter("model", OpenApiTypes.STR, description="app_label.model, e.g. inventory.device"),
            OpenApiParameter("object_pk", OpenApiTypes.STR, description="primary key of the object"),
        ]
    )
)
class AuditEntryViewSet(viewsets.ReadOnlyModelViewSet):
    """The audit trail: who changed what, when, field by field. DCC staff read it all; others
    read the trail of an object they may see (give model and object_pk)."""

    serializer_class = AuditEntrySerializer
    permission_classes = [permissions.IsAuthenticated]
    queryset = LogEntry.objects.none()

    def get_queryset(self):
        return selectors.audit_entries(
            self.request.user,
            model_label=self.request.query_params.get("model"),
            object_pk=self.request.query_params.get("object_pk"),
        )


ROUTES = [
    ("organisations", OrganisationViewSet, "organisation"),
    ("people", PersonViewSet, "person"),
    ("audit", AuditEntryViewSet, "audit"),
]


def exception_handler(exc, context):
    """DRF's handler, plus: a Django ValidationError raised by a service (full_clean, a refused
    transition) answers 400 with the field-named messages, so API views need no try/except of their own."""
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework.exceptions import ValidationError as ApiValidationError
    from rest_framework.views import exception_handler as drf_exception_handler

    from portal.errors import messages_by_field

    if isinstance(exc, DjangoValidationError):
        exc = ApiValidationError(messages_by_field(exc, unnamed="detail"))
    return drf_exception_handler(exc, context)
