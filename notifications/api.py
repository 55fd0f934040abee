from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from notifications import selectors, services
from notifications.models import Notification
from review_portal.api_fields import ModelSerializer
from review_portal.api_pagination import CursorListMixin


class NotificationSerializer(ModelSerializer):
    is_read = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "title", "body", "link", "created_at", "read_at", "is_read"]

    def get_is_read(self, obj) -> bool:
        return obj.read_at is not None


class NotificationViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                          viewsets.GenericViewSet):
    """Your own notifications, newest first. ?unread=1 for the unread ones only."""

    serializer_class = NotificationSerializer
    queryset = Notification.objects.none()

    def get_queryset(self):
        qs = selectors.notifications_for(user=self.request.user)
        if self.request.query_params.get("unread") in ("1", "true"):
            qs = qs.filter(read_at__isnull=True)
        if self.action == "list":  # what the list shows
            qs = qs.only(*(f for f in NotificationSerializer.Meta.fields if f != "is_read"))
        return qs

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = services.notification_mark_read(notification=self.get_object())
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=inline_serializer(
        "NotificationsReadAll", {"marked": serializers.IntegerField()}))
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(user=request.user)})
