"""`GET /v1/inbox`: the pull channel, signed by the contact point."""

from __future__ import annotations

from tests.factories import a_report

INBOX = "/v1/inbox"


def get_inbox(caller, contact_point_id: str, query: str = ""):
    url = caller.settings.public_base_url + INBOX
    path = f"{INBOX}?{query}" if query else INBOX

    return caller.send(contact_point_id, "GET", path, url=url)


def routed_to(caller, reference: str) -> list[dict]:
    answer = caller.file("hl-at-demo", a_report(reference))
    assert answer.status_code == 201, answer.text

    return answer.json["referrals"]


def test_the_inbox_lists_the_sealed_referrals_addressed_to_the_caller(caller):
    """Each waiting referral comes as published: routing headers, sealed content."""
    lead = routed_to(caller, "INBOX-0001")[0]

    answer = get_inbox(caller, lead["contact_point_id"])

    assert answer.status_code == 200, answer.text
    [message] = answer.json["referrals"]
    assert message["referral_id"] == lead["id"]
    assert set(message["content"]) == {"alg", "ciphertext"}
    assert answer.json["next_after"] is None


def test_the_inbox_never_lists_another_contact_points_referrals(caller):
    """A contact point routed nothing sees an empty inbox."""
    routed = routed_to(caller, "INBOX-0002")
    addressed = {referral["contact_point_id"] for referral in routed}
    bystander = next(
        party_id
        for party_id, party in caller.parties.items()
        if party.kind == "contact_point" and party_id not in addressed
    )

    answer = get_inbox(caller, bystander)

    assert answer.status_code == 200
    assert answer.json["referrals"] == []


def test_an_acknowledged_referral_leaves_the_inbox(caller):
    """Acknowledging is what takes a referral out of the inbox."""
    lead = routed_to(caller, "INBOX-0003")[0]
    caller.acknowledge(lead["contact_point_id"], lead["id"])

    answer = get_inbox(caller, lead["contact_point_id"])

    assert answer.json["referrals"] == []


def test_the_inbox_is_paged_with_a_cursor(caller):
    """`limit` bounds a page; `next_after` leads to the next one."""
    first = routed_to(caller, "INBOX-0004")[0]["contact_point_id"]
    routed_to(caller, "INBOX-0005")
    point = first

    page = get_inbox(caller, point, "limit=1")
    following = get_inbox(caller, point, f"limit=1&after={page.json['next_after']}")

    assert len(page.json["referrals"]) == 1
    assert len(following.json["referrals"]) == 1
    assert page.json["referrals"] != following.json["referrals"]


def test_a_page_larger_than_the_bound_is_refused(caller):
    """A `limit` over 100 is a validation error, not a large page."""
    point = routed_to(caller, "INBOX-0006")[0]["contact_point_id"]

    answer = get_inbox(caller, point, "limit=1000")

    assert answer.status_code == 422


def test_a_hotline_cannot_read_an_inbox(caller):
    """The inbox is for contact points only."""
    answer = get_inbox(caller, "hl-at-demo")

    assert answer.status_code == 403
