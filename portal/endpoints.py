"""The ground's own API endpoints: organisations, people and the audit trail. config/urls.py
registers ROUTES; the building blocks they are made of are in portal/api.py."""
from auditlog.models import LogEntry
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view, inline_serializer
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.authtoken import serializers as authtoken_serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.settings import api_settings

from portal import selectors, services
from portal.access import require
from portal.api import ScopedReadOnlyViewSet
from portal.choices import PortalRole
from portal.models import Organisation, User
from portal.pagination import KeysetPagination
from portal.parsers import JSONParser


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


class ManagedPersonSerializer(serializers.ModelSerializer):
    """A person as their organisation's administrator sees them (people/managed, the actions)."""

    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    name = serializers.CharField(source="get_full_name", read_only=True)
    invited = serializers.SerializerMethodField(help_text="invited and not yet chosen a password")

    class Meta:
        model = User
        fields = ["id", "username", "name", "email", "organisation", "role", "is_active", "last_login", "invited"]

    def get_invited(self, person) -> bool:
        return not person.has_usable_password()


class InviteSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=150)
    first_name = serializers.CharField(max_length=150)
    last_name = serializers.CharField(max_length=150)

    def get_fields(self):
        fields = super().get_fields()
        fields["role"] = serializers.ChoiceField(choices=PortalRole.choices,
                                                 help_text="up to the administrator's own; never DCC's")
        return fields


class PersonViewSet(ScopedReadOnlyViewSet):
    """The people one may see (active ones). An organisation's administrator also manages its own:
    ``managed`` lists them all with e-mail, active state and last sign-in; ``invite``,
    ``deactivate``, ``reactivate`` and ``mfa_reset`` are the page's actions (the services decide
    who may: never another organisation's people, DCC staff or oneself)."""

    queryset = User.objects.select_related("organisation").filter(is_active=True)
    serializer_class = PersonSerializer
    filterset_fields = ["role"]

    def _managed(self, pk):
        from portal.scoping import get_scoped_or_404

        require(self.request.user, "portal.user.manage_people")
        return get_scoped_or_404(self.request.user, User, pk=pk)  # inactive ones too

    @extend_schema(responses=ManagedPersonSerializer(many=True), filters=False)
    @action(detail=False, methods=["get"])
    def managed(self, request):
        require(request.user, "portal.user.manage_people")
        page = self.paginate_queryset(selectors.people_of_my_organisation(request.user))
        return self.get_paginated_response(ManagedPersonSerializer(page, many=True).data)

    @extend_schema(request=InviteSerializer, responses={201: ManagedPersonSerializer})
    @action(detail=False, methods=["post"])
    def invite(self, request):
        data = InviteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        person = services.person_invite(actor=request.user, **data.validated_data)
        return Response(ManagedPersonSerializer(person).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=ManagedPersonSerializer)
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        person = services.person_set_active(actor=request.user, person=self._managed(pk), active=False)
        return Response(ManagedPersonSerializer(person).data)

    @extend_schema(request=None, responses=ManagedPersonSerializer)
    @action(detail=True, methods=["post"])
    def reactivate(self, request, pk=None):
        person = services.person_set_active(actor=request.user, person=self._managed(pk), active=True)
        return Response(ManagedPersonSerializer(person).data)

    @extend_schema(request=None, responses=ManagedPersonSerializer)
    @action(detail=True, methods=["post"], url_path="mfa-reset")
    def mfa_reset(self, request, pk=None):
        person = self._managed(pk)
        services.person_mfa_reset(actor=request.user, person=person)
        return Response(ManagedPersonSerializer(person).data)


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
    pagination_class = KeysetPagination  # the trail only grows
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


# Keeps DRF's class name, so the schema's ``AuthTokenRequest`` and generated clients keep theirs.
class AuthTokenSerializer(authtoken_serializers.AuthTokenSerializer):
    """Your username and password, and how the new token may be used."""

    read_only = serializers.BooleanField(required=False, default=False,
                                         help_text="the token may only read (GET, HEAD, OPTIONS): other "
                                                   "methods answer 403")
    expires_in_days = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=3660,
        help_text="days until the token stops working (401); absent or null: the portal's default "
                  "(API_TOKEN_DAYS)")
    # A password alone must not buy a token the pages would not let it buy (portal.mfa).
    otp = serializers.CharField(required=False, allow_blank=True, max_length=32, trim_whitespace=True,
                                help_text="A current code of the person's second factor (or a recovery code); "
                                          "required when they have one")


class TokenView(ObtainAuthToken):
    """POST ``{"username", "password"}`` as JSON (with ``otp`` for a person who has multi-factor sign-in;
    optionally ``read_only``, ``expires_in_days``):
    ``{"token", "read_only", "expires_at"}``, the key to send as ``Authorization: Token <key>``. Each call
    issues a new token, shown this once (only its digest is kept). JSON only, like every other body of the
    API (DRF's view also reads forms, which made the schema declare three content types and generated
    clients send forms). A person who needs multi-factor sign-in gets a token only once enrolled (in the
    portal) and only with a valid ``otp``."""

    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    serializer_class = AuthTokenSerializer
    # DRF's view turns throttling off; guessing passwords through the API is bounded like any call
    # (and by the login lock-out, which counts these attempts too).
    throttle_classes = api_settings.DEFAULT_THROTTLE_CLASSES

    @extend_schema(request=AuthTokenSerializer, responses={200: inline_serializer(
        "AuthToken", {"token": serializers.CharField(), "read_only": serializers.BooleanField(),
                      "expires_at": serializers.DateTimeField(allow_null=True)})}, auth=[])
    def post(self, request, *args, **kwargs):
        import datetime as dt

        from django.core.exceptions import ValidationError as DjangoValidationError
        from django.utils import timezone

        from portal import services
        from portal.mfa.policy import has_mfa
        from portal.mfa.services import verify_code

        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        if has_mfa(user):
            code = serializer.validated_data.get("otp") or ""
            if not code:
                raise serializers.ValidationError({"otp": ["This person has multi-factor sign-in: give a current "
                                                           "code of their authenticator app (or a recovery code)."]})
            try:
                verify_code(user=user, code=code)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"otp": error.message_dict["code"]}) from error
        days = serializer.validated_data.get("expires_in_days")
        expires_at = timezone.now() + dt.timedelta(days=days) if days else services.DEFAULT_EXPIRY
        # api_token_issue refuses a person who needs multi-factor sign-in and has none (require_for_token).
        issued = services.api_token_issue(user=user, name="issued by /api/auth/token/",
                                          read_only=serializer.validated_data.get("read_only", False),
                                          expires_at=expires_at)
        return Response({"token": issued.key, "read_only": issued.token.read_only,
                         "expires_at": issued.token.expires_at})
