"""/.well-known/csaf/: the public CSAF provider directory (views_wellknown)."""

from django.urls import path

from clearinghouse import views_wellknown

urlpatterns = [
    path("", views_wellknown.csaf_file, {"path": ""}, name="csaf_root"),
    path("<path:path>", views_wellknown.csaf_file, name="csaf_file"),
]
