"""ConText-style cue lists for pathology text, on top of negspacy's clinical termset.

Pathology reports negate mostly with trailing cues ("Lymphovascular invasion: not identified")
and with "negative for" / "no evidence of"; uncertainty with "suspicious for" and "cannot be
excluded". Kept here, in one place, so that the gold-standard evaluation measures one list.
"""

from __future__ import annotations

from negspacy.termsets import termset

PATHOLOGY_PRECEDING_NEGATIONS = [
    "no evidence of", "negative for", "free of", "absence of", "no", "without", "not", "none",
    "no residual", "no definite", "no significant", "lacks", "lack of", "lacking",
]  # fmt: skip
PATHOLOGY_FOLLOWING_NEGATIONS = [
    "not identified", "not seen", "not present", "is not identified", "are not identified", "absent",
    "negative", "is negative", "are negative", "not detected", "none identified", "none seen",
    ": no", ": none", ": absent", ": negative", ": not identified",
    # WSI-Bench style prose: "Vascular invasion is not observed / not evident / not apparent".
    "not observed", "is not observed", "are not observed", "was not observed", "were not observed",
    "not evident", "is not evident", "not apparent", "is not apparent", "not noted", "is not noted",
    "not specifically noted", "is not specifically noted", "not appreciated", "not demonstrated",
    "uninvolved", "is uninvolved", "are uninvolved",
]  # fmt: skip
UNCERTAIN_PRECEDING = [
    "suspicious for", "suspicious of", "suggestive of", "possible", "possibly", "probable", "probably",
    "questionable", "cannot rule out", "favor", "favour", "favored", "favoured", "indeterminate for",
    "no unequivocal",
]  # fmt: skip
UNCERTAIN_FOLLOWING = [
    "cannot be excluded", "cannot be ruled out", "not excluded", "is suspected", "suspected",
    # CAP synoptic values: "Lymphovascular invasion: Indeterminate", "... not unequivocally present".
    "indeterminate", "is indeterminate", "not unequivocally present", "not unequivocally identified",
]  # fmt: skip
# Phrases that look like negation but are not ("no change" in a margin note, "not only").
PSEUDO = ["not only", "no change", "no increase", "not necessarily", "gram negative"]
# Uncertainty phrases built on a negation word: "cannot rule out DCIS" is uncertain, not negated.
NEGATION_PSEUDO = [
    "cannot rule out", "can not rule out", "cannot be ruled out", "cannot be excluded", "can not be excluded",
    "cannot exclude", "not excluded", "not unequivocally", "no unequivocal",
]  # fmt: skip


def negation_termset() -> dict[str, list[str]]:
    base = termset("en_clinical").get_patterns()
    return {
        "pseudo_negations": sorted(set(base["pseudo_negations"]) | set(PSEUDO) | set(NEGATION_PSEUDO)),
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
