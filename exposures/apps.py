from django.apps import AppConfig


class ExposuresConfig(AppConfig):
    """What critical-infrastructure operators run and which clearinghouse fixes matter to them
    (issue 12): inventories from SBOMs or CSV, exposures matched against vendor statements,
    an SSVC deployer priority per asset, targeted pre-disclosure and patch distribution."""

    name = "exposures"
