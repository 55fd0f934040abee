"""/api/v1/ for cases: opening them from reports, case states, participants (suggested,
confirmed, added), statements and remediations, the thread and the embargo.

Each view parses, calls one access helper and one service, and presents. Objects the caller may
not see answer 404 (the same filtered querysets as the pages); actions the caller may not take
answer 403.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from accounts.models import Organisation
from clearinghouse import access, case_selectors, cases, embargo
from clearinghouse.models import Participant
from clearinghouse.serializers_cases import (
    CaseListSerializer,
    CaseMessageSerializer,
    CaseOpenSerializer,
    CaseSerializer,
    CaseStateSerializer,
    EmbargoExitSerializer,
    EmbargoProposeSerializer,
    EmbargoSerializer,
    MessageCreateSerializer,
    ParticipantSerializer,
    RemediationCreateSerializer,
    RemediationSerializer,
    StatementSerializer,
    StatementUpdateSerializer,
    VendorAddSerializer,
)
from review_portal.api import parse_input
from review_portal.api_pagination import CursorListMixin
from review_portal.errors import ApplicationError

ID = r"\d+"


class CaseViewSet(CursorListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                  viewsets.GenericViewSet):
    """Cases the caller takes part in (coordinators: all)."""

    lookup_value_regex = ID
    list_ordering = ("-created_at", "-id")

    def get_serializer_class(self):
        return CaseListSerializer if self.action == "list" else CaseSerializer

    def get_queryset(self):
        if self.action == "list":
            return case_selectors.cases_for_list(self.request.user)
        return access.cases_visible_to(self.request.user)

    def _case(self, pk):
        return case_selectors.case_get_for_user(user=self.request.user, pk=pk)

    def retrieve(self, request, pk=None):
        return self._present_case(self._case(pk))

    def _present_case(self, case, code=status.HTTP_200_OK):
        case = self._case(case.pk)
        case.visible_vulnerabilities = list(
            access.vulnerabilities_visible_to(self.request.user, case))
        return Response(CaseSerializer(case).data, status=code)

    @extend_schema(request=CaseOpenSerializer, responses={201: CaseSerializer})
    def create(self, request):
        data = parse_input(CaseOpenSerializer, request)
        case = cases.case_open_from_ids(actor=request.user, report_ids=data["reports"],
                                        title=data.get("title", ""),
                                        summary=data.get("summary", ""))
        return self._present_case(case, status.HTTP_201_CREATED)

    @extend_schema(request=CaseStateSerializer, responses=CaseSerializer)
    @action(detail=True, methods=["post"])
    def state(self, request, pk=None):
        """Record a case state (Vultron CS): set once, never cleared. public_at and
        exploit_public_at end an embargo in force at once."""
        case = self._case(pk)
        data = parse_input(CaseStateSerializer, request)
        case = cases.case_state_set(case=case, actor=request.user, field=data["field"],
                                    at=data.get("at"), reason=data.get("reason", ""))
        return self._present_case(case)

    @extend_schema(methods=["get"], responses=ParticipantSerializer(many=True))
    @extend_schema(methods=["post"], request=VendorAddSerializer,
                   responses={201: ParticipantSerializer})
    @action(detail=True, methods=["get", "post"])
    def participants(self, request, pk=None):
        """The participants the caller may see (coordinators: suggested vendors too); POST: the
        coordinator adds a vendor, confirmed and notified at once."""
        case = self._case(pk)
        if request.method == "POST":
            data = parse_input(VendorAddSerializer, request)
            organisation = Organisation.objects.filter(pk=data["organisation"]).first()
            if organisation is None:
                raise ApplicationError("No such organisation.", field="organisation")
            participant = cases.vendor_add(case=case, organisation=organisation,
                                           actor=request.user)
            return Response(ParticipantSerializer(participant).data,
                            status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(case_selectors.participants_visible_to(request.user, case))
        return self.get_paginated_response(ParticipantSerializer(page, many=True).data)

    @extend_schema(request=None, responses=ParticipantSerializer(many=True))
    @action(detail=True, methods=["post"], url_path="participants/suggest")
    def suggest(self, request, pk=None):
        """The coordinator suggests vendors again from the reports' products (a catalogue grew,
        a report joined); the answer is every participant, the new suggestions unconfirmed."""
        case = self._case(pk)
        cases.vendors_suggest(case=case, actor=request.user)
        page = self.paginate_queryset(case_selectors.participants_visible_to(
            request.user, self._case(pk)))
        return self.get_paginated_response(ParticipantSerializer(page, many=True).data)

    @extend_schema(request=None, responses=ParticipantSerializer)
    @action(detail=True, methods=["post"],
            url_path=r"participants/(?P<participant_pk>\d+)/confirm")
    def confirm(self, request, pk=None, participant_pk=None):
        """The coordinator confirms a suggested vendor: notified, statements opened."""
        case = self._case(pk)
        participant = get_object_or_404(Participant, pk=participant_pk, case=case)
        participant = cases.participant_confirm(participant=participant, actor=request.user)
        return Response(ParticipantSerializer(participant).data)

    @extend_schema(responses=StatementSerializer(many=True))
    @action(detail=True, methods=["get"])
    def statements(self, request, pk=None):
        """The statements the caller may see: coordinators all, a vendor its own."""
        case = self._case(pk)
        page = self.paginate_queryset(case_selectors.statements_for(request.user, case))
        return self.get_paginated_response(StatementSerializer(page, many=True).data)

    @extend_schema(methods=["get"], responses=CaseMessageSerializer(many=True))
    @extend_schema(methods=["post"], request=MessageCreateSerializer,
                   responses={201: CaseMessageSerializer})
    @action(detail=True, methods=["get", "post"])
    def messages(self, request, pk=None):
        case = self._case(pk)
        if request.method == "POST":
            data = parse_input(MessageCreateSerializer, request)
            message = cases.message_post(case=case, actor=request.user, body=data["body"])
            cases.thread_label(request.user, case, [message])
            return Response(CaseMessageSerializer(message).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(case_selectors.messages_of(case).select_related(
            "author__membership"))
        cases.thread_label(request.user, case, page)
        return self.get_paginated_response(CaseMessageSerializer(page, many=True).data)

    def _embargo(self, case):
        current = case_selectors.embargo_of(case)
        if current is None:
            raise ApplicationError("This case has no embargo.", status=404, code="not_found")
        return current

    def _present_embargo(self, case, code=status.HTTP_200_OK):
        return Response(EmbargoSerializer(self._embargo(case),
                                          context={"request": self.request}).data, status=code)

    @extend_schema(methods=["get"], responses=EmbargoSerializer)
    @extend_schema(methods=["post"], request=EmbargoProposeSerializer,
                   responses={201: EmbargoSerializer})
    @action(detail=True, methods=["get", "post"])
    def embargo(self, request, pk=None):
        """GET the embargo; POST proposes one (or, when one is active, a revision of its end,
        with a reason). Ends: ISO 8601 with an offset; never past the program's ceiling."""
        case = self._case(pk)
        if request.method == "POST":
            data = parse_input(EmbargoProposeSerializer, request)
            embargo.embargo_propose(case=case, actor=request.user, ends_at=data.get("ends_at"),
                                    time_zone=data.get("time_zone") or "UTC",
                                    reason=data.get("reason", ""))
            return self._present_embargo(case, status.HTTP_201_CREATED)
        return self._present_embargo(case)

    @extend_schema(request=EmbargoProposeSerializer, responses={201: EmbargoSerializer})
    @action(detail=True, methods=["post"], url_path="embargo/revise")
    def embargo_revise(self, request, pk=None):
        """Propose a new end for the active embargo (a reason is required)."""
        case = self._case(pk)
        current = self._embargo(case)
        if current.status not in ("active", "revise"):
            raise ApplicationError("Only an active embargo is revised.", status=409,
                                   code="transition_not_allowed")
        return self.embargo(request, pk=pk)

    def _answer(self, request, pk, accept: bool):
        case = self._case(pk)
        embargo.embargo_answer(embargo=self._embargo(case), actor=request.user, accept=accept)
        return self._present_embargo(case)

    @extend_schema(request=None, responses=EmbargoSerializer)
    @action(detail=True, methods=["post"], url_path="embargo/accept")
    def embargo_accept(self, request, pk=None):
        return self._answer(request, pk, True)

    @extend_schema(request=None, responses=EmbargoSerializer)
    @action(detail=True, methods=["post"], url_path="embargo/decline")
    def embargo_decline(self, request, pk=None):
        return self._answer(request, pk, False)

    @extend_schema(request=EmbargoExitSerializer, responses=EmbargoSerializer)
    @action(detail=True, methods=["post"], url_path="embargo/exit")
    def embargo_exit(self, request, pk=None):
        case = self._case(pk)
        data = parse_input(EmbargoExitSerializer, request)
        embargo.embargo_exit(embargo=self._embargo(case), actor=request.user,
                             reason=data["reason"])
        return self._present_embargo(case)


class StatementViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """One product statement; PATCH: its vendor states the status."""

    lookup_value_regex = ID
    serializer_class = StatementSerializer

    def _statement(self, pk):
        return case_selectors.statement_get_for_user(user=self.request.user, pk=pk)

    def retrieve(self, request, pk=None):
        return Response(StatementSerializer(self._statement(pk)).data)

    @extend_schema(request=StatementUpdateSerializer, responses=StatementSerializer)
    def partial_update(self, request, pk=None):
        statement = self._statement(pk)
        data = parse_input(StatementUpdateSerializer, request)
        statement = cases.statement_update(
            statement=statement, actor=request.user, status=data["status"],
            justification=data.get("justification", ""), reason=data.get("reason", ""),
            statement_text=data.get("statement", ""))
        return Response(StatementSerializer(self._statement(statement.pk)).data)

    @extend_schema(methods=["get"], responses=RemediationSerializer(many=True))
    @extend_schema(methods=["post"], request=RemediationCreateSerializer,
                   responses={201: RemediationSerializer})
    @action(detail=True, methods=["get", "post"])
    def remediations(self, request, pk=None):
        statement = self._statement(pk)
        if request.method == "POST":
            data = parse_input(RemediationCreateSerializer, request)
            remediation = cases.remediation_add(statement=statement, actor=request.user,
                                                **data)
            return Response(RemediationSerializer(remediation).data,
                            status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(statement.remediations.order_by("created_at", "id"))
        return self.get_paginated_response(RemediationSerializer(page, many=True).data)
