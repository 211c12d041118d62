"""API building blocks shared by every app: the scoped viewset bases, their permission and the
exception handler (settings.REST_FRAMEWORK). The ground's own endpoints (organisations, people,
audit trail) are in portal/endpoints.py; notifications' and webhooks' in their rooms' api.py."""
from rest_framework import permissions, viewsets
from rest_framework.exceptions import PermissionDenied

from portal.idempotency import IdempotentMixin
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


class ScopedViewSetMixin(IdempotentMixin):
    """Every viewset's queryset passes portal.scoping.scope: reads see what the user may view,
    writes find only what the user may change (so others' objects are 404). Every POST honours
    Idempotency-Key (portal.idempotency)."""

    permission_classes = [ScopedPermission]

    def get_queryset(self):
        queryset = super().get_queryset()
        action = VIEW if self.request.method in permissions.SAFE_METHODS else CHANGE
        return scope(self.request.user, queryset, action)

    def check_create_organisation(self, organisation):
        if not can_create(self.request.user, self.get_queryset().model, organisation):
            raise PermissionDenied("You may not create records for that organisation.")


def validated(serializer_class, request, **kwargs):
    """The request's body as ``serializer_class`` validates it (its ``validated_data``); an invalid
    body answers 400 naming the fields, before anything is written."""
    serializer = serializer_class(data=request.data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    pass


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
