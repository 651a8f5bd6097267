"""The OB 2.0 issuer Profile (``issuer.json``).

Its ``publicKey`` names one key, the active RSA key: the 1EdTech validator rejects a profile that
lists several, so OB 2.0 signed assertions are always signed by it.
"""

from __future__ import annotations

from badgekiln.formats import endorsements, ob2, urls
from badgekiln.formats.jsonout import dumps_hosted
from badgekiln.outputs import BuildInputs, FileSpec, Plan, Unit


def produce(plan: Plan, inputs: BuildInputs, renderer: object, item: None) -> None:
    """issuer.json."""
    profile = ob2.issuer_profile(inputs.config, key_ids=(inputs.ob2_kid,), with_revocation_list=True)
    endorsed = endorsements.ob2_links(endorsements.of_badge(inputs.project.endorsements, None))
    if endorsed:
        profile["endorsement"] = endorsed
    plan.add(urls.ISSUER, dumps_hosted(profile))


UNIT = Unit(
    "issuer",
    "site",
    (FileSpec(urls.ISSUER, "application/ld+json", rel="alternate", title="Issuer profile"),),
    reads=("documents-config", "signing", "endorsements"),
    produce=produce,
    cached=False,
)
