"""Loading rule sets: bad files are refused with the place of the problem."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from routing_rules import RuleSetError, load_rule_set

from .conftest import RULESET

PH_RULE = RULESET / "jurisdictions" / "ph.yaml"


def _refusal(folder: Path, directory) -> str:
    with pytest.raises(RuleSetError) as caught:
        load_rule_set(folder, directory)

    return str(caught.value)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_refuses_unknown_field_in_rule(rules_copy, directory):
    """A misspelt rule field is refused, naming file, rule and field."""
    path = rules_copy / "jurisdictions" / "ph.yaml"
    _edit(path, "    role: informed", "    rol: informed\n    role: informed")

    message = _refusal(rules_copy, directory)

    assert f"{path}: rule 'ph-online-unit-2026': field 'rol': Unknown field." in (
        message
    )


def test_refuses_unknown_country_in_condition(rules_copy, directory):
    """A country code that is not ISO 3166-1 alpha-2 is refused where it stands."""
    path = rules_copy / "jurisdictions" / "ph.yaml"
    _edit(path, "victim_country: PH", "victim_country: [PH, XX]")

    message = _refusal(rules_copy, directory)

    assert (
        f"{path}: rule 'ph-online-unit-2026': field 'when.victim_country[1]': "
        "unknown country 'XX'"
    ) in message


def test_refuses_unknown_jurisdiction_country(rules_copy, directory):
    """A jurisdiction file for a country that does not exist is refused."""
    path = rules_copy / "jurisdictions" / "xx.yaml"
    path.write_text("country: XX\n")

    message = _refusal(rules_copy, directory)

    assert f"{path}: field 'country': unknown country 'XX'" in message


def test_refuses_unknown_contact_point_in_rule(rules_copy, directory):
    """A rule naming a contact point missing from the directory is refused."""
    path = rules_copy / "jurisdictions" / "ph.yaml"
    _edit(path, "contact_point: cp-ph-online-unit", "contact_point: cp-xx")

    message = _refusal(rules_copy, directory)

    assert (
        f"{path}: rule 'ph-online-unit-2026': field 'contact_point': "
        "unknown contact point 'cp-xx'"
    ) in message


def test_refuses_unknown_contact_point_for_role(rules_copy, directory):
    """A jurisdiction's contact point for a role must be in the directory."""
    path = rules_copy / "jurisdictions" / "nl.yaml"
    _edit(path, "lead: cp-nl-police", "lead: cp-nl-missing")

    message = _refusal(rules_copy, directory)

    assert (
        f"{path}: field 'contact_points.lead': unknown contact point 'cp-nl-missing'"
    ) in message


# file under the rule set, text in it, its replacement, the one problem
# reported: "<file>: [rule '<rule>': ]field '<field>': <message>".
LOCATED_REFUSALS = [
    (
        "jurisdictions/th.yaml",
        "fallback: cp-asia-bureau",
        "fallback: cp-th-missing",
        "field 'fallback': unknown contact point 'cp-th-missing'",
    ),
    (
        "jurisdictions/mm.yaml",
        "refer_instead: cp-asia-bureau",
        "refer_instead: cp-mm-missing",
        "field 'embargo.refer_instead': unknown contact point 'cp-mm-missing'",
    ),
    (
        "jurisdictions/ph.yaml",
        "victim_country: PH",
        "victim_contry: PH",
        "rule 'ph-online-unit-2026': field 'when.victim_contry': Unknown field.",
    ),
]


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    LOCATED_REFUSALS,
    ids=["unknown-fallback", "unknown-embargo-replacement", "misspelt-condition"],
)
def test_refuses_with_located_message(rules_copy, directory, name, old, new, expected):
    """A bad reference or key is refused with its file, rule and field, alone."""
    path = rules_copy / name
    _edit(path, old, new)

    with pytest.raises(RuleSetError) as caught:
        load_rule_set(rules_copy, directory)

    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}: {expected}"
    ]


def test_refuses_contact_point_of_another_country(rules_copy, directory):
    """A jurisdiction cannot name another country's police as its own."""
    path = rules_copy / "jurisdictions" / "nl.yaml"
    _edit(path, "lead: cp-nl-police", "lead: cp-de-police")

    message = _refusal(rules_copy, directory)

    assert "field 'contact_points.lead': contact point 'cp-de-police' is in DE" in (
        message
    )


def test_refuses_cycle_in_fallback_chain(rules_copy, directory):
    """A fallback chain that comes back on itself is refused, showing the loop."""
    path = rules_copy / "network.yaml"
    _edit(path, "cp-asia-bureau: cp-coordinators", "cp-asia-bureau: cp-mekong-bureau")

    message = _refusal(rules_copy, directory)

    assert (
        f"{path}: field 'fallbacks.cp-mekong-bureau': the fallback chain loops: "
        "cp-mekong-bureau -> cp-asia-bureau -> cp-mekong-bureau"
    ) in message


def test_refuses_contact_point_falling_back_to_itself(rules_copy, directory):
    """A contact point that is its own fallback is a loop too."""
    path = rules_copy / "network.yaml"
    _edit(path, "cp-asia-bureau: cp-coordinators", "cp-asia-bureau: cp-asia-bureau")

    message = _refusal(rules_copy, directory)

    assert "the fallback chain loops: cp-asia-bureau -> cp-asia-bureau" in message


def test_refuses_duplicate_rule_id(rules_copy, directory):
    """Two rules with one id are refused, naming both files."""
    (rules_copy / "jurisdictions" / "fr.yaml").write_text(
        "country: FR\nrules:\n"
        "  - {id: incident-country-leads, description: Synthetic duplicate.,\n"
        "     role: lead, contact_point: cp-fr-police}\n"
    )

    message = _refusal(rules_copy, directory)

    assert re.search(
        r"fr\.yaml: rule 'incident-country-leads': field 'id': also defined in "
        r".*network\.yaml",
        message,
    )


def test_refuses_support_rule_without_consent(rules_copy, directory):
    """A support referral must depend on the reporter's consent to contact."""
    path = rules_copy / "jurisdictions" / "ph.yaml"
    _edit(path, "role: informed", "role: support")

    message = _refusal(rules_copy, directory)

    assert "rule 'ph-online-unit-2026': field 'role': a support referral needs" in (
        message
    )


def test_refuses_rule_with_two_targets(rules_copy, directory):
    """A rule names either a contact point or a country relation, not both."""
    path = rules_copy / "jurisdictions" / "ph.yaml"
    _edit(path, "role: informed", "role: informed\n    to_country_of: victims")

    message = _refusal(rules_copy, directory)

    assert "field 'contact_point': give exactly one of" in message


def test_refuses_rule_ending_before_it_starts(rules_copy, directory):
    """A rule whose end date comes before its start date is refused."""
    path = rules_copy / "jurisdictions" / "ph.yaml"
    _edit(path, "effective_until: 2026-12-31", "effective_until: 2025-12-31")

    message = _refusal(rules_copy, directory)

    assert "field 'effective_until': ends before 'effective_from'" in message


def test_refuses_file_named_for_another_country(rules_copy, directory):
    """A jurisdiction file must be named after its country code."""
    (rules_copy / "jurisdictions" / "nl.yaml").rename(
        rules_copy / "jurisdictions" / "be.yaml"
    )

    message = _refusal(rules_copy, directory)

    assert "be.yaml: field 'country': the file for NL must be named nl.yaml" in message


def test_refuses_unquoted_numeric_version(rules_copy, directory):
    """A version YAML reads as a number is refused: it must be quoted."""
    _edit(rules_copy / "network.yaml", 'version: "1.0.0"', "version: 1.0")

    message = _refusal(rules_copy, directory)

    assert "network.yaml: field 'version': Not a valid string." in message


def test_refuses_invalid_yaml(rules_copy, directory):
    """A file that is not YAML is refused, naming the file."""
    path = rules_copy / "jurisdictions" / "nl.yaml"
    path.write_text("country: [NL\n")

    message = _refusal(rules_copy, directory)

    assert f"{path}: is not valid YAML" in message


def test_refuses_missing_network_file(rules_copy, directory):
    """A rule set folder without its network file is refused."""
    (rules_copy / "network.yaml").unlink()

    message = _refusal(rules_copy, directory)

    assert "network.yaml: the network file is missing" in message


def test_lists_every_problem_at_once(rules_copy, directory):
    """All problems of all files are reported together."""
    _edit(rules_copy / "jurisdictions" / "nl.yaml", "cp-nl-police}", "cp-nl-x}")
    _edit(rules_copy / "jurisdictions" / "gb.yaml", "country: GB", "country: GB\nx: 1")

    with pytest.raises(RuleSetError) as caught:
        load_rule_set(rules_copy, directory)

    assert len(caught.value.problems) == 2


def test_reads_norway_as_country_not_boolean(rule_set):
    """The code NO loads as Norway, not as YAML 1.1's false."""
    assert rule_set.jurisdictions["NO"].contact_points["lead"] == "cp-no-police"


def test_hashes_rule_file_bytes_into_version(rules_copy, directory, rule_set):
    """Changing any rule file's bytes changes the rule set version."""
    path = rules_copy / "jurisdictions" / "nl.yaml"
    path.write_text(path.read_text() + "# a comment changes the hash\n")

    changed = load_rule_set(rules_copy, directory)

    assert changed.version.startswith("1.0.0+sha256:")
    assert changed.version != rule_set.version


def test_leaves_directory_out_of_hash(rules_copy, directory, rule_set):
    """The directory file in the folder does not count towards the version."""
    path = rules_copy / "directory.yaml"
    path.write_text(path.read_text() + "# directory edits do not change rules\n")

    reloaded = load_rule_set(rules_copy, directory)

    assert reloaded.version == rule_set.version
