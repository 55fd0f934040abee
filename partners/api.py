"""/api/v1/ for partner organisations, access requests, grants, terms and introspection.

Each view parses, calls one access helper and one service, and presents. Objects the caller may
not see answer 404 (the same filtered querysets as the pages).
"""

from django.db.models import F
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from partners import selectors, services
from partners.serializers import (
    AccessGrantSerializer,
    AccessRequestCreateSerializer,
    AccessRequestSerializer,
    IntrospectRequestSerializer,
    IntrospectResponseSerializer,
    PartnerApplySerializer,
    PartnerProfileSerializer,
    TermsAcceptSerializer,
    TermsSerializer,
    TermsSetSerializer,
    TokenSerializer,
)
from partners.tracking import window_token_introspect
from review_portal.api import parse_input
from review_portal.api_fields import model_label_sql
from review_portal.api_pagination import CursorListMixin
from review_portal.errors import ApplicationError
from submissions.models import AccessWindow
from submissions.selectors import model_get_for_user
from submissions.serializers import ReasonSerializer

ID = r"\d+"


class PartnerProfileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin,
                            viewsets.GenericViewSet):
    lookup_value_regex = ID
    serializer_class = PartnerProfileSerializer

    def get_queryset(self):
        return selectors.partner_profiles_visible_to(self.request.user)

    def _present(self, profile):
        return PartnerProfileSerializer(profile, context=self.get_serializer_context()).data

    @extend_schema(request=PartnerApplySerializer, responses=PartnerProfileSerializer)
    def create(self, request):
        data = parse_input(PartnerApplySerializer, request)
        profile = services.partner_apply(actor=request.user, **data)
        return Response(self._present(profile), status=status.HTTP_201_CREATED)

    def _transition(self, request, pk, name):
        profile = selectors.partner_profile_get_for_user(user=request.user, pk=pk)
        data = parse_input(ReasonSerializer, request)
        profile = services.partner_transition(profile=profile, actor=request.user, action=name,
                                              reason=data.get("reason", ""))
        return Response(self._present(profile))

    @extend_schema(request=ReasonSerializer, responses=PartnerProfileSerializer)
    @action(detail=True, methods=["post"])
    def vet(self, request, pk=None):
        return self._transition(request, pk, "vet")

    @extend_schema(request=ReasonSerializer, responses=PartnerProfileSerializer)
    @action(detail=True, methods=["post"])
    def suspend(self, request, pk=None):
        return self._transition(request, pk, "suspend")

    @extend_schema(request=ReasonSerializer, responses=PartnerProfileSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        return self._transition(request, pk, "revoke")


class AccessRequestViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    lookup_value_regex = ID
    list_ordering = ("-created_at", "-id")
    serializer_class = AccessRequestSerializer

    def get_queryset(self):
        return selectors.access_requests_visible_to(self.request.user)

    def _get(self, pk):
        return selectors.access_request_get_for_user(user=self.request.user, pk=pk)

    def _answer(self, access_request, code=status.HTTP_200_OK):
        return Response(AccessRequestSerializer(self._get(access_request.pk),
                                                context=self.get_serializer_context()).data,
                        status=code)

    @extend_schema(request=AccessRequestCreateSerializer, responses=AccessRequestSerializer)
    def create(self, request):
        data = parse_input(AccessRequestCreateSerializer, request)
        access_request = services.access_request_file(
            actor=request.user, model_id=data["model"], organisation_id=data.get("organisation"),
            starts_at=data["starts_at"], ends_at=data["ends_at"],
            justification=data["justification"])
        return self._answer(access_request, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        access_request = services.access_request_approve(access_request=self._get(pk),
                                                         actor=request.user)
        return self._answer(access_request)

    @extend_schema(request=ReasonSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def deny(self, request, pk=None):
        data = parse_input(ReasonSerializer, request)
        access_request = services.access_request_deny(
            access_request=self._get(pk), actor=request.user, reason=data.get("reason", ""))
        return self._answer(access_request)

    @extend_schema(request=ReasonSerializer, responses=AccessRequestSerializer)
    @action(detail=True, methods=["post"])
    def reconsider(self, request, pk=None):
        data = parse_input(ReasonSerializer, request)
        access_request = services.access_request_reconsider(
            access_request=self._get(pk), actor=request.user, reason=data.get("reason", ""))
        return self._answer(access_request)

    @extend_schema(methods=["get"], responses=TermsSerializer)
    @extend_schema(methods=["post"], request=TermsAcceptSerializer, responses=TermsSerializer)
    @action(detail=True, methods=["get", "post"])
    def terms(self, request, pk=None):
        """The model's current terms for this request; a partner member accepts them."""
        access_request = self._get(pk)
        if request.method == "POST":
            data = parse_input(TermsAcceptSerializer, request)
            services.terms_accept(model=access_request.model, actor=request.user, **data)
        terms = selectors.terms_current(model=access_request.model)
        if terms is None:
            raise ApplicationError("The developer has not set terms for this model yet.",
                                   status=404)
        return Response(TermsSerializer(terms).data)


class AccessGrantViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                         viewsets.GenericViewSet):
    lookup_value_regex = ID
    list_ordering = ("-starts_at", "-id")
    serializer_class = AccessGrantSerializer

    # What the list shows (AccessGrantSerializer): the grant's columns, and read in SQL the
    # model's label, the organisation's name and its vetting status (for is_live, decided by
    # policy.grant_is_live). No related row is loaded; not who revoked, not the token hash.
    LIST_COLUMNS = ("id", "request", "model", "organisation", "starts_at", "ends_at",
                    "token_hint", "revoked_at", "revoke_reason", "created_at")

    def get_queryset(self):
        grants = selectors.grants_visible_to(self.request.user)
        if self.action != "list":
            return grants
        return grants.select_related(None).only(*self.LIST_COLUMNS).annotate(
            list_model_label=model_label_sql(),
            list_organisation_name=F("organisation__name"),
            list_partner_status=F("organisation__partner_profile__status"))

    @extend_schema(request=ReasonSerializer, responses=AccessGrantSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        grant = selectors.grant_get_for_user(user=request.user, pk=pk)
        data = parse_input(ReasonSerializer, request)
        grant = services.grant_revoke(grant=grant, actor=request.user,
                                      reason=data.get("reason", ""))
        return Response(AccessGrantSerializer(grant).data)

    @extend_schema(request=None, responses={201: TokenSerializer})
    @action(detail=True, methods=["post"])
    def token(self, request, pk=None):
        grant = selectors.grant_get_for_user(user=request.user, pk=pk)
        grant, token = services.grant_issue_token(grant=grant, actor=request.user)
        return Response({"grant": AccessGrantSerializer(grant).data, "token": token},
                        status=status.HTTP_201_CREATED)


class ModelTermsView(APIView):
    """GET the current terms of a model; POST publishes a new version (the developer)."""

    @extend_schema(responses=TermsSerializer)
    def get(self, request, pk):
        model = model_get_for_user(user=request.user, pk=pk)
        terms = selectors.terms_current(model=model)
        if terms is None:
            raise ApplicationError("No terms yet.", status=404)
        return Response(TermsSerializer(terms).data)

    @extend_schema(request=TermsSetSerializer, responses={201: TermsSerializer})
    def post(self, request, pk):
        model = model_get_for_user(user=request.user, pk=pk)
        data = parse_input(TermsSetSerializer, request)
        terms = services.terms_set(model=model, actor=request.user, text=data["text"])
        return Response(TermsSerializer(terms).data, status=status.HTTP_201_CREATED)


class IntrospectView(APIView):
    """RFC 7662-style token introspection for the developer's model gateway."""

    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(request={"application/x-www-form-urlencoded": IntrospectRequestSerializer},
                   responses=IntrospectResponseSerializer)
    def post(self, request):
        token = str(request.data.get("token", ""))
        # Government window tokens carry their own prefix: one query either way.
        if token.startswith(AccessWindow.TOKEN_PREFIX):
            return Response(window_token_introspect(token=token, caller=request.user))
        return Response(services.introspect(token=token, caller=request.user))
