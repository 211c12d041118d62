"""API of the portal's operations features: webhook endpoints and deliveries (with resend) and
the caller's own notifications. portal/urls.py registers ROUTES."""
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from portal import notifications, webhooks
from portal.api import ScopedModelViewSet, ScopedPermission, ScopedReadOnlyViewSet
from portal.models import Notification, WebhookDelivery, WebhookEndpoint
from portal.registry import webhook_event_choices
from portal.scoping import VIEW, scope


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
        fields["events"].child.choices = webhook_event_choices()
        return fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookDelivery
        fields = ["id", "endpoint", "event", "payload", "status", "attempts", "next_attempt_at", "last_attempt_at",
                  "response_code", "response_excerpt", "error", "resent_from", "created_at", "delivered_at"]


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "summary", "body", "url", "created_at", "read_at"]


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

    @extend_schema(request=None, responses={202: WebhookDeliverySerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        copy = webhooks.delivery_resend(delivery=self.get_object(), actor=request.user)
        return Response(WebhookDeliverySerializer(copy).data, status=status.HTTP_202_ACCEPTED)


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your own notifications, newest first. POST .../read/ marks one read."""

    serializer_class = NotificationSerializer
    permission_classes = [ScopedPermission]
    queryset = Notification.objects.all()
    filterset_fields = ["event"]

    def get_queryset(self):
        # Marking read is the owner's right whatever their role, so the scope is always "view".
        return scope(self.request.user, Notification.objects.filter(user=self.request.user), VIEW)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        notifications.notifications_mark_read(user=request.user, notification=notification)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)


ROUTES = [
    ("webhook-endpoints", WebhookEndpointViewSet, "webhook-endpoint"),
    ("webhook-deliveries", WebhookDeliveryViewSet, "webhook-delivery"),
    ("notifications", NotificationViewSet, "notification"),
]
