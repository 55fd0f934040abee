from django.urls import path

from jobs import views

urlpatterns = [
    path("health/", views.queue_health, name="queue_health"),
]
