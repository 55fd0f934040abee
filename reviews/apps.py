from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    """Reviewer workflow (conflicts, recusal, lead, rubric reviews) and the threshold policy."""

    name = "reviews"
    verbose_name = "Reviews, rubrics and threshold policy"
