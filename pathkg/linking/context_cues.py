"""ConText-style cue lists for pathology text, on top of negspacy's clinical termset.

Pathology reports negate mostly with trailing cues ("Lymphovascular invasion: not identified")
and with "negative for" / "no evidence of"; uncertainty with "suspicious for" and "cannot be
excluded". Kept here, in one place, so that the gold-standard evaluation measures one list.
"""

from __future__ import annotations

from negspacy.termsets import termset

PATHOLOGY_PRECEDING_NEGATIONS = [
    "no evidence of", "negative for", "free of", "absence of", "no", "without", "not", "none",
    "no residual", "no definite", "no significant",
]  # fmt: skip
PATHOLOGY_FOLLOWING_NEGATIONS = [
    "not identified", "not seen", "not present", "is not identified", "are not identified", "absent",
    "negative", "is negative", "are negative", "not detected", "none identified", "none seen",
    ": no", ": none", ": absent", ": negative", ": not identified",
]  # fmt: skip
UNCERTAIN_PRECEDING = [
    "suspicious for", "suspicious of", "suggestive of", "possible", "possibly", "probable", "probably",
    "questionable", "cannot rule out", "favor", "favour", "favored", "favoured", "indeterminate for",
]  # fmt: skip
UNCERTAIN_FOLLOWING = ["cannot be excluded", "cannot be ruled out", "not excluded", "is suspected", "suspected"]
# Phrases that look like negation but are not ("no change" in a margin note, "not only").
PSEUDO = ["not only", "no change", "no increase", "not necessarily", "gram negative"]


def negation_termset() -> dict[str, list[str]]:
    base = termset("en_clinical").get_patterns()
    return {
        "pseudo_negations": sorted(set(base["pseudo_negations"]) | set(PSEUDO)),
        "preceding_negations": sorted(set(base["preceding_negations"]) | set(PATHOLOGY_PRECEDING_NEGATIONS)),
        "following_negations": sorted(set(base["following_negations"]) | set(PATHOLOGY_FOLLOWING_NEGATIONS)),
        "termination": base["termination"],
    }


def uncertainty_termset() -> dict[str, list[str]]:
    base = termset("en_clinical").get_patterns()
    return {
        "pseudo_negations": list(PSEUDO),
        "preceding_negations": list(UNCERTAIN_PRECEDING),
        "following_negations": list(UNCERTAIN_FOLLOWING),
        "termination": base["termination"],
    }
