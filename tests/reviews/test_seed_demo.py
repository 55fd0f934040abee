"""The demo loads the demo threshold policy, a submitted review, and determinations that rest on
the policy: Atlas 2.0 confirmed (compute over the SB 53 line), Kite 1 overridden with a reason."""

from django.core.management import call_command

from reviews.models import PolicyVersion, Review
from submissions.models import Determination


def test_the_demo_rests_its_determinations_on_the_demo_policy(db, settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path
    call_command("seed_demo")
    policy = PolicyVersion.objects.get(is_active=True)
    assert [(r.kind, r.category, r.threshold) for r in policy.rules.all()] == [
        ("category_accuracy", "exploit_development", 0.6),
        ("category_accuracy", "vulnerability_discovery", 0.7),
        ("training_compute", "", 1e26),
    ]
    atlas = Determination.objects.get(request__model__name="Atlas", request__model__version="2.0")
    assert (atlas.policy_version, atlas.recommendation, atlas.overridden) == (
        policy, "covered", False)
    assert list(atlas.reviews.all()) == list(Review.objects.filter(status="submitted"))
    kite = Determination.objects.get(request__model__name="Kite")
    assert (kite.recommendation, kite.overridden) == ("insufficient_evidence", True)
    assert kite.override_reason
