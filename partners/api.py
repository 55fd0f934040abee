"""/api/v1/ for partner organisations, access requests, grants, terms and introspection.

Each view parses, calls one access helper and one service, and presents. Objects the caller may
not see answer 404 (the same filtered querysets as the pages).
"""

from urllib.parse import quote

from django.db.models import F
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.authentication import SessionAuthentication
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.authentication import ApiTokenAuthentication, GatewayClientAuthentication
from partners import gateway, selectors, services
from partners.models import GatewayClient
from partners.serializers import (
    AccessGrantSerializer,
    AccessRequestCreateSerializer,
    AccessRequestSerializer,
    GatewayClientCreateSerializer,
    GatewayClientSecretSerializer,
    GatewayClientSerializer,
    IntrospectRequestSerializer,
    IntrospectResponseSerializer,
    ModelGatewaySerializer,
    ModelGatewaySetSerializer,
    PartnerApplySerializer,
    PartnerProfileSerializer,
    TermsAcceptSerializer,
    TermsSerializer,
    TermsSetSerializer,
    TokenSerializer,
)
from review_portal.api import parse_input
from review_portal.api_fields import model_label_sql
from review_portal.api_pagination import CursorListMixin
from review_portal.errors import ApplicationError
from review_portal.throttles import GatewayClientRateThrottle
from submissions.selectors import model_get_for_user
from submissions.serializers import ReasonSerializer

ID = r"\d+"

# What the reference gateway's check tells the gateway (and nginx passes to the model server).
GATEWAY_HEADERS = {
    "X-Portal-Subject": "The organisation holding the token: `organisation:<id>`.",
    "X-Portal-Organisation": "Its name, percent-encoded.",
    "X-Portal-Client": "The grant (`grant:<id>`) or government window (`window:<id>`).",
    "X-Portal-Expires": "The window's end (Unix time).",
}


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


class GatewayClientViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           viewsets.GenericViewSet):
    """The caller's developer organisation's model gateways (OAuth 2.0 clients of the
    introspection endpoint). A secret is in the answer that made it (create, rotate) only."""

    lookup_value_regex = ID
    list_ordering = ("-created_at", "-id")
    serializer_class = GatewayClientSerializer

    def get_queryset(self):
        return gateway.gateway_clients_of(user=self.request.user)

    def _secret(self, client, secret, code=status.HTTP_200_OK):
        response = Response({"client": GatewayClientSerializer(client).data,
                             "client_secret": secret}, status=code)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=GatewayClientCreateSerializer,
                   responses={201: GatewayClientSecretSerializer})
    def create(self, request):
        data = parse_input(GatewayClientCreateSerializer, request)
        client, secret = gateway.gateway_client_create(actor=request.user, name=data["name"])
        return self._secret(client, secret, status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=GatewayClientSecretSerializer)
    @action(detail=True, methods=["post"])
    def rotate(self, request, pk=None):
        """A new secret; the old one stops working at once."""
        client = gateway.gateway_client_get_for_user(user=request.user, pk=pk)
        client, secret = gateway.gateway_client_rotate(client=client, actor=request.user)
        return self._secret(client, secret)

    @extend_schema(request=None, responses=GatewayClientSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request, pk=None):
        """The client's credentials stop working at once, for good."""
        client = gateway.gateway_client_get_for_user(user=request.user, pk=pk)
        client = gateway.gateway_client_revoke(client=client, actor=request.user)
        return Response(GatewayClientSerializer(client).data)


class ModelGatewayView(APIView):
    """GET where partners call a model; PUT publishes its gateway address (the model's
    developer; a blank `url` withdraws it)."""

    def _present(self, model):
        published = gateway.gateway_published_of(model_id=model.pk)
        return Response(ModelGatewaySerializer({
            "model": model.pk, "url": published.url if published else None,
            "published_at": published.published_at if published else None,
            "address": gateway.gateway_address_of(published)}).data)

    @extend_schema(responses=ModelGatewaySerializer)
    def get(self, request, pk):
        return self._present(model_get_for_user(user=request.user, pk=pk))

    @extend_schema(request=ModelGatewaySetSerializer, responses=ModelGatewaySerializer)
    def put(self, request, pk):
        model = model_get_for_user(user=request.user, pk=pk)
        data = parse_input(ModelGatewaySetSerializer, request)
        gateway.gateway_address_set(model=model, actor=request.user, url=data["url"])
        return self._present(model)


CACHE_CONTROL = OpenApiParameter(
    "Cache-Control", type=str, location=OpenApiParameter.HEADER, response=True,
    description="An active answer: `max-age=N`, N at most GATEWAY_INTROSPECTION_CACHE_SECONDS "
                "and never past `exp`; an inactive one: `no-store`.")


class GatewayCallerPermission(BasePermission):
    """A model gateway: a live gateway client (HTTP Basic) or a signed-in user (a developer's
    personal token or session; anyone else learns only `{"active": false}`)."""

    def has_permission(self, request, view):
        return isinstance(request.auth, GatewayClient) or bool(
            request.user and request.user.is_authenticated)


class _GatewayCallerView(APIView):
    authentication_classes = [GatewayClientAuthentication, ApiTokenAuthentication,
                              SessionAuthentication]
    permission_classes = [GatewayCallerPermission]
    throttle_classes = [GatewayClientRateThrottle, *api_settings.DEFAULT_THROTTLE_CLASSES]

    def caller(self, request):
        return request.auth if isinstance(request.auth, GatewayClient) else request.user


class IntrospectView(_GatewayCallerView):
    """RFC 7662 token introspection for the developer's model gateway: a gateway client
    (client_secret_basic) or a developer's personal token. Form or JSON body."""

    parser_classes = [FormParser, MultiPartParser, JSONParser]

    @extend_schema(
        request={"application/x-www-form-urlencoded": IntrospectRequestSerializer,
                 "application/json": IntrospectRequestSerializer},
        responses=IntrospectResponseSerializer, parameters=[CACHE_CONTROL])
    def post(self, request):
        data = request.data
        if not hasattr(data, "get"):
            raise ApplicationError("Send the token as a form field or a JSON object.",
                                   field="token")
        token = data.get("token", "")
        answer = gateway.token_answer(token=token if isinstance(token, str) else "",
                                      caller=self.caller(request))
        return Response(answer, headers={"Cache-Control": gateway.cache_control(answer)})


class GatewayCheckView(_GatewayCallerView):
    """The reference gateway's check (nginx `auth_request`, deploy/gateway/): 204 when the
    partner's `Authorization: Bearer` token (forwarded as X-Original-Authorization) is live for
    `?model=<id>`, with who holds it in X-Portal-* headers; 401 otherwise."""

    @extend_schema(
        parameters=[
            OpenApiParameter("model", int, required=True,
                             description="The model the gateway serves."),
            OpenApiParameter("X-Original-Authorization", str, OpenApiParameter.HEADER,
                             required=True, description="The partner's `Bearer <token>`."),
            CACHE_CONTROL,
            *[OpenApiParameter(name, str, OpenApiParameter.HEADER, response=[204],
                               description=text) for name, text in GATEWAY_HEADERS.items()]],
        responses={204: OpenApiResponse(description="The token is live for the model."),
                   401: OpenApiResponse(description="It is not (or the gateway's own "
                                                    "credentials are wrong).")})
    def get(self, request):
        scheme, _, token = request.headers.get("X-Original-Authorization", "").partition(" ")
        model = request.query_params.get("model", "")
        answer = gateway.INACTIVE
        if scheme.lower() == "bearer" and model.isascii() and model.isdigit():
            answer = gateway.token_answer(token=token.strip(), caller=self.caller(request))
        if not answer["active"] or answer["model"] != int(model):
            response = HttpResponse(status=401)
            response["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            response["Cache-Control"] = "no-store"
            return response
        response = HttpResponse(status=204)
        response["Cache-Control"] = gateway.cache_control(answer)
        response["X-Portal-Subject"] = answer["sub"]
        response["X-Portal-Organisation"] = quote(answer["organisation"])
        response["X-Portal-Client"] = answer["client_id"]
        response["X-Portal-Expires"] = str(answer["exp"])
        return response
