"""api_urls_reports: filled in by its workstream."""

urlpatterns: list = []
