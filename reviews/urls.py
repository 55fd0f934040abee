"""Pages of the reviewer workflow and the threshold policy (included by review_portal/urls.py)."""

from django.urls import path

from reviews import views

urlpatterns = [
    path("conflicts/", views.conflict_list, name="conflict_list"),
    path("requests/<int:pk>/review/", views.review_edit, name="review_edit"),
    path("requests/<int:pk>/recuse/", views.recuse, name="recuse"),
    path("reviews/<int:pk>/", views.review_detail, name="review_detail"),
    path("assignments/<int:pk>/lead/", views.lead_set, name="lead_set"),
    path("rubrics/", views.rubric_list, name="rubric_list"),
    path("rubrics/new/", views.rubric_create, name="rubric_create"),
    path("rubrics/<int:pk>/", views.rubric_detail, name="rubric_detail"),
    path("rubrics/<int:pk>/edit/", views.rubric_edit, name="rubric_edit"),
    path("rubrics/<int:pk>/activate/", views.rubric_activate, name="rubric_activate"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/", views.policy_detail, name="policy_detail"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/activate/", views.policy_activate, name="policy_activate"),
]
