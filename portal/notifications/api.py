"""API of notifications: the caller's own notifications, and marking one read.
config/urls.py registers ROUTES."""
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from portal.api import ScopedPermission
from portal.notifications import services
from portal.notifications.models import Notification
from portal.pagination import KeysetPagination
from portal.scoping import VIEW, scope


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "summary", "body", "url", "created_at", "read_at"]


class NotificationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Your own notifications, newest first. POST .../read/ marks one read."""

    serializer_class = NotificationSerializer
    permission_classes = [ScopedPermission]
    queryset = Notification.objects.all()
    filterset_fields = ["event"]
    pagination_class = KeysetPagination  # one per event per watcher: grows without bound

    def get_queryset(self):
        # Marking read is the owner's right whatever their role, so the scope is always "view".
        return scope(self.request.user, Notification.objects.filter(user=self.request.user), VIEW)

    @extend_schema(request=None, responses={200: NotificationSerializer})
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = self.get_object()
        services.notifications_mark_read(user=request.user, notification=notification)
        notification.refresh_from_db()
        return Response(NotificationSerializer(notification).data)


ROUTES = [
    ("notifications", NotificationViewSet, "notification"),
]
