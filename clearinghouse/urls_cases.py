"""The case pages, under /clearinghouse/."""

from django.urls import path

from clearinghouse import views_cases as v

urlpatterns = [
    path("cases/", v.case_list, name="case_list"),
    path("cases/new/", v.case_open_view, name="case_open"),
    path("cases/<int:pk>/", v.case_detail, name="case_detail"),
    path("cases/<int:pk>/vendors/<int:participant_pk>/confirm/", v.vendor_confirm_view,
         name="case_vendor_confirm"),
    path("cases/<int:pk>/vendors/add/", v.vendor_add_view, name="case_vendor_add"),
    path("cases/<int:pk>/vendors/suggest/", v.vendors_suggest_view, name="case_vendors_suggest"),
    path("cases/<int:pk>/state/", v.case_state_view, name="case_state"),
    path("cases/<int:pk>/messages/", v.message_post_view, name="case_message_post"),
    path("cases/<int:pk>/embargo/", v.embargo_propose_view, name="embargo_propose"),
    path("cases/<int:pk>/embargo/answer/", v.embargo_answer_view, name="embargo_answer"),
    path("cases/<int:pk>/embargo/exit/", v.embargo_exit_view, name="embargo_exit"),
    path("vulnerabilities/<int:pk>/assessment/", v.assessment_set_view,
         name="vulnerability_assessment_set"),
    path("statements/<int:pk>/", v.statement_edit_view, name="statement_edit"),
    path("statements/<int:pk>/remediations/new/", v.remediation_add_view,
         name="remediation_add"),
]
