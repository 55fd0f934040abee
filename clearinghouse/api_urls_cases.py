"""api_urls_cases: filled in by its workstream."""

urlpatterns: list = []
