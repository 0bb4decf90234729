"""The routing-rules engine: rules as data, decisions as pure functions.

Rule files live in a folder (see `routing_rules/demo/`): `network.yaml` for the
network, one file per country under `jurisdictions/`. `load_rule_set` validates
them against a directory of contact points; `decide` routes the facts of one
report; `explain` says why; `check` lists the gaps.
"""

from routing_rules.check import CheckResult, Gap, check
from routing_rules.directory import ContactPointView, DirectoryView
from routing_rules.engine import (
    Decision,
    ReferralDecision,
    decide,
    explain,
    fallback_after,
    minimise,
)
from routing_rules.errors import Problem, RuleSetError
from routing_rules.facts import Facts
from routing_rules.loader import load_rule_set
from routing_rules.model import RuleSet

__all__ = [
    "CheckResult",
    "ContactPointView",
    "Decision",
    "DirectoryView",
    "Facts",
    "Gap",
    "Problem",
    "ReferralDecision",
    "RuleSet",
    "RuleSetError",
    "check",
    "decide",
    "explain",
    "fallback_after",
    "load_rule_set",
    "minimise",
]
