"""urls_publication: filled in by its workstream."""

urlpatterns: list = []
