"""The background jobs report as JSON: the same fields as the page (jobs.selectors)."""

from rest_framework import serializers

from review_portal.api_fields import StrictDateTimeField


class WorkerHealthSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="Celery's node name")
    hostname = serializers.CharField()
    queues = serializers.ListField(child=serializers.CharField())
    concurrency = serializers.IntegerField()
    started_at = StrictDateTimeField()
    seen_at = StrictDateTimeField(help_text="When the worker last said it was alive")
    stopped_at = StrictDateTimeField(allow_null=True,
                                           help_text="Set when it shut down cleanly")
    seen_seconds_ago = serializers.IntegerField()
    alive = serializers.BooleanField(help_text="Seen within 20 s and not stopped")
    status = serializers.CharField()


class QueueHealthSerializer(serializers.Serializer):
    name = serializers.CharField()
    depth = serializers.IntegerField(allow_null=True,
                                     help_text="Messages waiting in the broker; null when it "
                                               "did not answer")
    depth_error = serializers.CharField(help_text="Why depth is null")
    live_workers = serializers.IntegerField(help_text="Live workers consuming the queue")


class OutboxHealthSerializer(serializers.Serializer):
    waiting = serializers.IntegerField(help_text="Jobs not yet handed to the broker")
    oldest_waiting_at = StrictDateTimeField(allow_null=True)
    oldest_waiting_seconds = serializers.IntegerField(allow_null=True)
    last_error = serializers.CharField(help_text="The newest reason a waiting job was not "
                                                 "taken")
    failed_last_24h = serializers.IntegerField()


class BeatHealthSerializer(serializers.Serializer):
    last_tick_at = StrictDateTimeField(allow_null=True)
    seconds_ago = serializers.IntegerField(allow_null=True)
    stale = serializers.BooleanField(help_text="No tick for more than 60 s, or never seen")
    status = serializers.CharField()


class AuditTrailHealthSerializer(serializers.Serializer):
    checked_at = StrictDateTimeField(allow_null=True, help_text="The last periodic verification")
    ok = serializers.BooleanField(allow_null=True, help_text="Null: never checked")
    events = serializers.IntegerField()
    problem = serializers.CharField(help_text="The first problem found, in a sentence")
    problems = serializers.IntegerField()
    failing_since = StrictDateTimeField(allow_null=True)
    checkpoint_sequence = serializers.IntegerField(allow_null=True,
                                                   help_text="The newest signed checkpoint's")
    checkpoint_at = StrictDateTimeField(allow_null=True)
    status = serializers.CharField()


class QueuedRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = StrictDateTimeField()
    age_seconds = serializers.IntegerField()


class QueueHealthReportSerializer(serializers.Serializer):
    checked_at = StrictDateTimeField()
    status = serializers.ChoiceField(choices=["OK", "Needs attention"])
    problems = serializers.ListField(child=serializers.CharField(),
                                     help_text="What needs attention, in sentences")
    workers = WorkerHealthSerializer(many=True)
    queues = QueueHealthSerializer(many=True)
    outbox = OutboxHealthSerializer()
    beat = BeatHealthSerializer()
    audit_trail = AuditTrailHealthSerializer()
    oldest_queued_run = QueuedRunSerializer(allow_null=True)
    last_email_sent_at = StrictDateTimeField(allow_null=True)
