"""Pages of operators' inventories (exposures/views_inventory.py)."""

from django.urls import path

from exposures import views_inventory as views

urlpatterns = [
    path("inventories/", views.inventory_list, name="inventory_list"),
    path("inventories/new/", views.inventory_create, name="inventory_create"),
    path("inventories/counts/", views.inventory_counts, name="inventory_counts"),
    path("inventories/<int:pk>/", views.inventory_detail, name="inventory_detail"),
    path("inventories/<int:pk>/upload/", views.inventory_upload, name="inventory_upload"),
    path("inventories/<int:pk>/inputs/", views.inventory_inputs, name="inventory_inputs"),
    path("inventories/assets/<int:pk>/", views.asset_edit, name="asset_edit"),
]
