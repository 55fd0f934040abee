"""Pages for clearinghouse members and vendor catalogues."""

from django.urls import path

from clearinghouse import views_members as views

urlpatterns = [
    path("members/", views.member_list, name="clearinghouse_member_list"),
    path("members/apply/", views.member_apply, name="clearinghouse_member_apply"),
    path("members/<int:pk>/<slug:action>/", views.member_action,
         name="clearinghouse_member_action"),
    path("products/add/", views.vendor_product_add, name="clearinghouse_product_add"),
]
