"""/api/v1/ for reviews, conflicts of interest, assignments (recusal, lead), rubrics, threshold
policies and a request's recommendation.

Each view parses, calls one access helper and one service, and presents. Objects the caller may
not see answer 404 (the same filtered querysets as the pages); a visible object on which the
caller may not act answers 403.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.views import APIView

from review_portal.api import parse_input
from review_portal.ids import id_or_none
from reviews import selectors, services
from reviews.serializers import (
    AssignmentSerializer,
    ConflictSerializer,
    ConflictWriteSerializer,
    FeedbackSerializer,
    NoteSerializer,
    PolicySerializer,
    PolicyWriteSerializer,
    RecommendationSerializer,
    ReviewSerializer,
    ReviewWriteSerializer,
    RubricSerializer,
    RubricWriteSerializer,
)
from submissions.api import ID
from submissions.selectors import request_get_for_user

REVIEW_FIELDS = ("scores", "recommendation", "confidence", "comments_for_developer",
                 "internal_comments")


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rubric reviews. A reviewer reads the others' reviews of a request only after submitting
    their own (the lead at any time); developers never see a review."""

    lookup_value_regex = ID
    serializer_class = ReviewSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        qs = selectors.reviews_visible_to(self.request.user)
        request_id = id_or_none(self.request.query_params.get("request", ""))
        if request_id:
            qs = qs.filter(request_id=request_id)
        return qs.order_by("request_id", "submitted_at", "id")

    @extend_schema(parameters=[OpenApiParameter("request", int, description="A request's id")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=ReviewWriteSerializer, responses={201: ReviewSerializer})
    def create(self, request):
        data = parse_input(ReviewWriteSerializer, request)
        if "request" not in data:
            return Response({"detail": "Say which request the review is of.",
                             "field": "request"}, status=status.HTTP_400_BAD_REQUEST)
        review_request = request_get_for_user(user=request.user, pk=data["request"])
        review = services.review_save(review_request=review_request, actor=request.user,
                                      submit=data["submit"],
                                      **{k: data[k] for k in REVIEW_FIELDS if k in data})
        return Response(ReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ReviewWriteSerializer, responses=ReviewSerializer)
    def partial_update(self, request, pk=None):
        review = selectors.review_get_for_user(user=request.user, pk=pk)
        data = parse_input(ReviewWriteSerializer, request)
        review = services.review_update(review=review, actor=request.user, submit=data["submit"],
                                        **{k: data[k] for k in REVIEW_FIELDS if k in data})
        return Response(ReviewSerializer(review).data)

    @extend_schema(request=None, responses=ReviewSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        review = selectors.review_get_for_user(user=request.user, pk=pk)
        review = services.review_submit(review=review, actor=request.user)
        return Response(ReviewSerializer(review).data)


class ConflictViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A reviewer's declared conflicts of interest (program admins see everyone's)."""

    lookup_value_regex = ID
    serializer_class = ConflictSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return selectors.conflicts_visible_to(self.request.user)

    @extend_schema(request=ConflictWriteSerializer, responses={201: ConflictSerializer})
    def create(self, request):
        data = parse_input(ConflictWriteSerializer, request)
        organisation = selectors.developer_organisations().filter(
            name=data["organisation"]).first()
        if organisation is None:
            return Response({"detail": "No AI developer organisation has that name.",
                             "field": "organisation"}, status=status.HTTP_400_BAD_REQUEST)
        conflict = services.conflict_declare(actor=request.user, organisation=organisation,
                                             kind=data["kind"], note=data["note"])
        return Response(ConflictSerializer(conflict).data, status=status.HTTP_201_CREATED)


class AssignmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                        viewsets.GenericViewSet):
    """Reviewer assignments (assign through /review-requests/{id}/assign/). The assigned
    reviewer may recuse; a program admin chooses the lead."""

    lookup_value_regex = ID
    serializer_class = AssignmentSerializer

    def get_queryset(self):
        return selectors.assignments_visible_to(self.request.user).order_by("request_id", "id")

    @extend_schema(request=NoteSerializer, responses={204: None})
    @action(detail=True, methods=["post"])
    def recuse(self, request, pk=None):
        assignment = selectors.assignment_get_for_user(user=request.user, pk=pk)
        data = parse_input(NoteSerializer, request)
        services.recusal_record(assignment=assignment, actor=request.user, note=data["note"])
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses=AssignmentSerializer)
    @action(detail=True, methods=["post"])
    def lead(self, request, pk=None):
        assignment = selectors.assignment_get_for_user(user=request.user, pk=pk)
        assignment = services.lead_set(assignment=assignment, actor=request.user)
        return Response(AssignmentSerializer(assignment).data)


class RubricViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Rubric versions (government only). A version used by a review is immutable (409)."""

    lookup_value_regex = ID
    serializer_class = RubricSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.rubrics_visible_to(self.request.user)

    def _answer(self, rubric, code=status.HTTP_200_OK):
        return Response(RubricSerializer(self.get_queryset().get(pk=rubric.pk)).data, status=code)

    @extend_schema(request=RubricWriteSerializer, responses={201: RubricSerializer})
    def create(self, request):
        data = parse_input(RubricWriteSerializer, request)
        rubric = services.rubric_create(actor=request.user, name=data["name"],
                                        dimensions=data["dimensions"], activate=data["activate"])
        return self._answer(rubric, status.HTTP_201_CREATED)

    @extend_schema(request=RubricWriteSerializer, responses=RubricSerializer)
    def partial_update(self, request, pk=None):
        rubric = selectors.rubric_get_for_user(user=request.user, pk=pk)
        data = parse_input(RubricWriteSerializer, request, partial=True)
        rubric = services.rubric_update(rubric=rubric, actor=request.user,
                                        name=data.get("name"), dimensions=data.get("dimensions"))
        return self._answer(rubric)

    @extend_schema(request=None, responses=RubricSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        rubric = selectors.rubric_get_for_user(user=request.user, pk=pk)
        return self._answer(services.rubric_activate(rubric=rubric, actor=request.user))


class PolicyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Threshold policy versions and their rules (government only; confidential). A version a
    determination rests on is immutable (409)."""

    lookup_value_regex = ID
    serializer_class = PolicySerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return selectors.policies_visible_to(self.request.user)

    def _answer(self, policy, code=status.HTTP_200_OK):
        return Response(PolicySerializer(self.get_queryset().get(pk=policy.pk)).data, status=code)

    @extend_schema(request=PolicyWriteSerializer, responses={201: PolicySerializer})
    def create(self, request):
        data = parse_input(PolicyWriteSerializer, request)
        policy = services.policy_create(actor=request.user, name=data["name"],
                                        notes=data.get("notes", ""), rules=data["rules"],
                                        activate=data["activate"])
        return self._answer(policy, status.HTTP_201_CREATED)

    @extend_schema(request=PolicyWriteSerializer, responses=PolicySerializer)
    def partial_update(self, request, pk=None):
        policy = selectors.policy_get_for_user(user=request.user, pk=pk)
        data = parse_input(PolicyWriteSerializer, request, partial=True)
        policy = services.policy_update(policy=policy, actor=request.user, name=data.get("name"),
                                        notes=data.get("notes"), rules=data.get("rules"))
        return self._answer(policy)

    @extend_schema(request=None, responses=PolicySerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        policy = selectors.policy_get_for_user(user=request.user, pk=pk)
        return self._answer(services.policy_activate(policy=policy, actor=request.user))


class RecommendationView(APIView):
    """What the active threshold policy recommends for a request, and on what evidence.
    Government users only: for anyone else the answer is 404."""

    @extend_schema(responses=RecommendationSerializer)
    def get(self, request, request_pk: int):
        review_request, result = selectors.recommendation_get_for_user(user=request.user,
                                                                       pk=request_pk)
        policy = result.policy
        data = {
            "request": review_request.pk,
            "policy": ({"id": policy.pk, "number": policy.number, "name": policy.name}
                       if policy else None),
            "recommendation": result.recommendation,
            "results": result.results,
            "runs": result.runs,
            "missing_categories": result.missing_categories,
        }
        return Response(RecommendationSerializer(data).data)


class FeedbackView(APIView):
    """The reviewers' comments for the developer, anonymised, once a determination is made."""

    @extend_schema(responses=FeedbackSerializer(many=True))
    def get(self, request, request_pk: int):
        feedback = selectors.feedback_get_for_user(user=request.user, pk=request_pk)
        return Response(FeedbackSerializer(feedback, many=True).data)

