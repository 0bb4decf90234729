"""Words of the domain as readers of the pages see them, in their language.

The data keeps its fixed vocabularies (`travel_tourism_offence`, `lead`); the
pages and the report show these labels instead.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

LABELS = {
    "travel_tourism_offence": _l("Offence in travel and tourism"),
    "online_abuse_material": _l("Online abuse material"),
    "grooming": _l("Grooming"),
    "trafficking": _l("Trafficking"),
    "other": _l("Other"),
    "lead": _l("Lead"),
    "informed": _l("Informed"),
    "support": _l("Support"),
    "routed": _l("Routed"),
    "delivered": _l("Delivered"),
    "acknowledged": _l("Acknowledged"),
    "follow_up_reported": _l("Follow-up reported"),
    "closed": _l("Closed"),
    "declined": _l("Declined"),
    "revoked": _l("Revoked"),
    "investigation_opened": _l("Investigation opened"),
    "referred_onward": _l("Referred onward"),
    "victim_support_provided": _l("Victim support provided"),
    "content_removed": _l("Content removed"),
    "not_competent": _l("Not competent"),
    "insufficient_information": _l("Insufficient information"),
    "no_action": _l("No action"),
    "none_reported": _l("No follow-up reported yet"),
    "unknown": _l("Unknown"),
    "police": _l("Police"),
    "national_bureau": _l("National bureau"),
    "ngo": _l("NGO"),
    "coordinator": _l("Coordinator"),
    "auditor": _l("Auditor"),
    "hotline": _l("Hotline"),
    "queued": _l("Queued"),
    "retrying": _l("Retrying"),
    "parked": _l("Parked"),
}


def label(word: str | None) -> str:
    """The reader's word for a vocabulary term; unknown terms as they are."""
    if word is None:
        return str(LABELS["unknown"])

    return str(LABELS.get(word, word))
