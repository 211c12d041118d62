"""API of webhooks: endpoints of your organisation and their deliveries (with resend).
config/urls.py registers ROUTES."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from portal.api import ScopedModelViewSet, ScopedReadOnlyViewSet
from portal.pagination import KeysetPagination
from portal.registry import webhook_event_choices
from portal.webhooks import services as webhooks
from portal.webhooks.models import WebhookDelivery, WebhookEndpoint


class WebhookEndpointSerializer(serializers.ModelSerializer):
    organisation = serializers.SlugRelatedField(slug_field="code", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=[]), allow_empty=False)

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "organisation", "name", "url", "events", "is_active", "secret", "created_at"]
        read_only_fields = ["secret", "created_at"]

    def get_fields(self):
        # The choices are the events the apps registered (portal.registry), read when the
        # serializer is built rather than when this module is imported.
        fields = super().get_fields()
        # "*" subscribes to every event, those registered later included (services.endpoints_for).
        fields["events"].child.choices = [("*", "every event"), *webhook_event_choices()]
        return fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event", "payload", "status", "attempts", "next_attempt_at", "last_attempt_at",
                  "response_code", "response_excerpt", "error", "resent_from", "created_at", "delivered_at"]


class WebhookEndpointViewSet(ScopedModelViewSet):
    """Webhook endpoints of your organisation (DCC staff: all). Created endpoints belong to
    your organisation; the secret signs every delivery (see X-DCC-Signature)."""

    queryset = WebhookEndpoint.objects.select_related("organisation")
    serializer_class = WebhookEndpointSerializer
    filterset_fields = ["is_active"]

    def _save(self, serializer, endpoint=None):
        data = serializer.validated_data
        organisation = endpoint.organisation if endpoint else self.request.user.organisation
        if organisation is None:
            raise PermissionDenied("You belong to no organisation.")
        current = endpoint or WebhookEndpoint()
        try:
            serializer.instance = webhooks.endpoint_save(
                actor=self.request.user, organisation=organisation, endpoint=endpoint,
                name=data.get("name", current.name), url=data.get("url", current.url),
                events=data.get("events", current.events), is_active=data.get("is_active", current.is_active),
            )
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error))
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict if hasattr(error, "error_dict") else error.messages)

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, endpoint=serializer.instance)


class WebhookDeliveryViewSet(ScopedReadOnlyViewSet):
    """Deliveries to your endpoints: status, attempts, response. POST .../resend/ sends one again."""

    queryset = WebhookDelivery.objects.select_related("endpoint")
    serializer_class = WebhookDeliverySerializer
    filterset_fields = ["status", "event", "endpoint"]
    pagination_class = KeysetPagination  # one row per event per endpoint: grows without bound

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        copy = webhooks.delivery_resend(delivery=self.get_object(), actor=request.user)
        return Response(WebhookDeliverySerializer(copy).data, status=status.HTTP_202_ACCEPTED)


ROUTES = [
    ("webhook-endpoints", WebhookEndpointViewSet, "webhook-endpoint"),
    ("webhook-deliveries", WebhookDeliveryViewSet, "webhook-delivery"),
]
