"""/api/v1/jobs/health/: the background jobs report for program admins (anyone else: 404)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from jobs import selectors
from jobs.serializers import QueueHealthReportSerializer


class QueueHealthView(APIView):
    """Workers seen and their queues, messages waiting per queue, the outbox backlog, beat's
    last tick, the oldest queued run and the last email sent. Program admins only."""

    @extend_schema(responses=QueueHealthReportSerializer, summary="Background jobs health")
    def get(self, request):
        report = selectors.queue_health(user=request.user)
        response = Response(QueueHealthReportSerializer(report).data)
        response["Cache-Control"] = "no-store"
        return response
