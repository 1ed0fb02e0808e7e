"""Histologic type: a lexicon of tumour types with the phrasings (and OCR slips) reports use.

Each entry has a canonical name (what the extractor emits) and a family (what two names share
when one is a subtype of the other: "non-keratinizing squamous cell carcinoma" and "squamous cell
carcinoma" are both family `squamous cell carcinoma`). Entries are ordered most specific first;
at one position the first entry that matches wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# "carcinoma" as OCR writes it: carcinuna, carcinorna, carcinorna, carcinoma.
CA = r"carci\w{2,4}a"
INV = r"(?:invasive|infiltrating|infiltrative|infil\W?trating)"


@dataclass(frozen=True)
class TumourType:
    name: str
    family: str
    pattern: re.Pattern[str]
    in_situ: bool = False


def _t(name: str, family: str, pattern: str, in_situ: bool = False) -> TumourType:
    return TumourType(name, family, re.compile(pattern, re.I), in_situ)


TYPES: list[TumourType] = [
    # --- breast -----------------------------------------------------------------------------
    _t("invasive ductal and lobular carcinoma", "invasive ductal carcinoma",
       rf"(?:{INV}\s+)?(?:mixed\s+)?duct(?:al)?\s+and\s+lobular\s+{CA}|mixed\s+ductal\s+and\s+lobular"),
    _t("invasive lobular carcinoma", "invasive lobular carcinoma",
       rf"{INV}\s+lobular\s+(?:adeno)?{CA}|lobular\s+{CA},?\s+(?:classic(?:al)?\s+type,?\s+)?invasive"
       rf"|histologic\s+type\s*:\s*(?:invasive\s+)?lobular"),
    _t("invasive mucinous carcinoma", "invasive mucinous carcinoma",
       rf"(?:{INV}\s+)?(?:mucinous|colloid)\s+{CA}(?!\s+in\s+situ)"),
    _t("invasive tubular carcinoma", "invasive tubular carcinoma", rf"(?:{INV}\s+)?tubular\s+{CA}"),
    _t("invasive micropapillary carcinoma", "invasive ductal carcinoma", rf"{INV}\s+micropapillary\s+{CA}"),
    _t("metaplastic carcinoma", "metaplastic carcinoma", rf"metaplastic\s+{CA}"),
    _t("medullary carcinoma", "medullary carcinoma", rf"medullary\s+{CA}"),
    _t("invasive ductal carcinoma", "invasive ductal carcinoma",
       rf"{INV}\s+(?:\w+\s+){{0,2}}duct(?:al)?\.?\s+(?:breast\s+)?(?:adeno)?{CA}"
       rf"|{INV}\s+(?:adeno)?{CA}(?:\s+of\s+(?:the\s+)?breast)?,?\s+(?:of\s+)?(?:no\s+special\s+type|NST)"
       rf"|{INV}\s+mammary\s+{CA},?\s+(?:ductal|no\s+special)"
       rf"|duct(?:al)?\.?\s+(?:breast\s+)?(?:adeno)?{CA}[^.]{{0,40}}\binvasive"
       rf"|histologic(?:al)?\s+type\s*:\s*(?:invasive\s+)?duct(?:al)?\b"
       rf"|ductal\s+adenocarcinoma|(?:breast\s+)?duct(?:al)?\s+{CA},?\s+(?:invasive|infiltrating)"
       rf"|\bIDC\b"),
    _t("ductal carcinoma in situ", "ductal carcinoma in situ",
       rf"duct(?:al)?\s+{CA}\s+in[\s-]situ|\bDCIS\b|intraductal\s+{CA}", in_situ=True),
    _t("lobular carcinoma in situ", "lobular carcinoma in situ", rf"lobular\s+{CA}\s+in[\s-]situ|\bLCIS\b",
       in_situ=True),
    # --- kidney -----------------------------------------------------------------------------
    _t("clear cell renal cell carcinoma", "renal cell carcinoma",
       rf"clear\s+cell\s+renal\s+cell\s+{CA}|renal\s+cell\s+{CA},?\s+(?:conventional\s+)?\(?(?:conventional\s+)?"
       rf"\(?clear(?:\s+and\s+granular)?\s+cell|conventional\s+\(clear|renal\s+cell\s+{CA},?\s+conventional"),
    _t("papillary renal cell carcinoma", "renal cell carcinoma",
       rf"papillary\s+renal\s+cell\s+{CA}|renal\s+cell\s+{CA},?\s+papillary"),
    _t("chromophobe renal cell carcinoma", "renal cell carcinoma",
       rf"chromophobe\s+(?:renal\s+cell\s+)?{CA}|renal\s+cell\s+{CA},?\s+chromophobe"),
    _t("renal cell carcinoma", "renal cell carcinoma", rf"renal\s+cell\s+{CA}"),
    # --- other carcinomas ---------------------------------------------------------------------
    _t("hepatocellular carcinoma", "hepatocellular carcinoma", rf"hepatocellular\s+{CA}"),
    _t("cholangiocarcinoma", "cholangiocarcinoma", r"cholangiocarcinoma|intrahepatic\s+bile\s+duct\s+carcinoma"),
    _t("papillary thyroid carcinoma", "papillary thyroid carcinoma",
       rf"papillary\s+thyroid\s+{CA}|papillary\s+{CA}\s+of\s+(?:the\s+)?thyroid"
       rf"|papillary\s+{CA},?\s+(?:follicular|tall\s+cell|classic(?:al)?|columnar)\s+(?:\w+\s+)?variant"),
    _t("papillary carcinoma", "papillary carcinoma", rf"(?:{INV}\s+|encapsulated\s+|solid\s+)?papillary\s+{CA}"),
    _t("urothelial carcinoma", "urothelial carcinoma", rf"urothelial\s+{CA}|transitional\s+cell\s+{CA}"),
    _t("adrenocortical carcinoma", "adrenocortical carcinoma", rf"adrenocortical\s+{CA}|adrenal\s+cortical\s+{CA}"),
    _t("carcinosarcoma", "carcinosarcoma", r"carcinosarcoma|malignant\s+mixed\s+m[uü]llerian\s+tumou?r"),
    _t("serous carcinoma", "serous carcinoma", rf"serous\s+(?:papillary\s+)?(?:adeno)?{CA}"),
    _t("endometrioid adenocarcinoma", "adenocarcinoma", rf"endometrioid\s+(?:adeno)?{CA}"),
    _t("mucinous adenocarcinoma", "adenocarcinoma", r"mucinous\s+adenocarcinoma"),
    _t("non-keratinizing squamous cell carcinoma", "squamous cell carcinoma",
       rf"non-?\s?keratini[sz]ing\s+squamous\s+cell\s+{CA}|squamous\s+cell\s+{CA},?\s+non-?\s?keratini[sz]ing"),
    _t("keratinizing squamous cell carcinoma", "squamous cell carcinoma",
       rf"(?<!non-)(?<!non)keratini[sz]ing\s+squamous\s+cell\s+{CA}|squamous\s+cell\s+{CA},?\s+keratini[sz]ing"),
    _t("basaloid squamous cell carcinoma", "squamous cell carcinoma", rf"basaloid\s+squamous\s+cell\s+{CA}"),
    _t("squamous cell carcinoma", "squamous cell carcinoma", rf"squamous\s+cell\s+{CA}|\bSCC\b"),
    _t("adenosquamous carcinoma", "adenosquamous carcinoma", rf"adenosquamous\s+{CA}"),
    _t("neuroendocrine carcinoma", "neuroendocrine carcinoma",
       rf"neuroendocrine\s+{CA}|small\s+cell\s+{CA}|large\s+cell\s+neuroendocrine"),
    _t("thymoma", "thymoma", r"\bthymoma\b"),
    # --- germ cell, neural, melanocytic, mesothelial, soft tissue, lymphoid --------------------
    _t("seminoma", "seminoma", r"\bseminoma\b"),
    _t("mixed germ cell tumor", "germ cell tumor", r"mixed\s+germ\s+cell\s+tumou?r|non-?\s?seminoma"),
    _t("embryonal carcinoma", "germ cell tumor", rf"embryonal\s+{CA}"),
    _t("glioblastoma", "glioblastoma", r"glioblastoma|\bGBM\b"),
    _t("oligoastrocytoma", "glioma", r"oligoastrocytoma|mixed\s+glioma"),
    _t("anaplastic oligodendroglioma", "glioma", r"anaplastic\s+oligodendroglioma"),
    _t("oligodendroglioma", "glioma", r"oligodendroglioma"),
    _t("anaplastic astrocytoma", "glioma", r"anaplastic\s+astrocytoma"),
    _t("astrocytoma", "glioma", r"astrocytoma"),
    _t("uveal melanoma", "melanoma", r"uveal\s+melanoma|choroidal\s+melanoma|ciliary\s+body\s+melanoma"),
    _t("melanoma", "melanoma", r"melanoma"),
    _t("biphasic mesothelioma", "mesothelioma", r"biphasic\s+(?:malignant\s+)?mesothelioma"),
    _t("sarcomatoid mesothelioma", "mesothelioma", r"sarcomatoid\s+(?:malignant\s+)?mesothelioma"),
    _t("epithelioid mesothelioma", "mesothelioma", r"epithelioid\s+(?:malignant\s+)?mesothelioma"),
    _t("mesothelioma", "mesothelioma", r"mesothelioma"),
    _t("pheochromocytoma", "pheochromocytoma", r"pheochromocytoma|paraganglioma"),
    _t("dedifferentiated liposarcoma", "liposarcoma", r"dedifferentiated\s+liposarcoma"),
    _t("liposarcoma", "liposarcoma", r"liposarcoma"),
    _t("leiomyosarcoma", "leiomyosarcoma", r"leiomyosarcoma"),
    _t("undifferentiated pleomorphic sarcoma", "sarcoma",
       r"undifferentiated\s+pleomorphic\s+sarcoma|malignant\s+fibrous\s+histiocytoma|myxofibrosarcoma"),
    _t("diffuse large B-cell lymphoma", "lymphoma", r"diffuse\s+large\s+b[\s-]cell\s+lymphoma|\bDLBCL\b"),
    _t("sarcoma", "sarcoma", r"\bsarcoma\b"),
    # --- generic last ---------------------------------------------------------------------------
    _t("adenocarcinoma", "adenocarcinoma", r"adenocarcinoma"),
    _t("carcinoma", "carcinoma", rf"\b{CA}\b"),
]  # fmt: skip

FAMILY = {t.name: t.family for t in TYPES}


@dataclass(frozen=True)
class TypeMention:
    type: TumourType
    start: int
    end: int


def find_types(text: str) -> list[TypeMention]:
    """Every non-overlapping tumour type mention, in text order (specific entries win a position)."""
    found: list[TypeMention] = []
    for t in TYPES:
        for m in t.pattern.finditer(text):
            if any(m.start() < f.end and f.start < m.end() for f in found):
                continue
            if _negated(text, m.start()):
                continue
            found.append(TypeMention(t, m.start(), m.end()))
    return sorted(found, key=lambda f: f.start)


_NEGATION = re.compile(
    r"(?:\bno\s+(?:\w+\s+){0,3}(?:evidence\s+of\s+)?|\bnegative\s+for\s+|\bfree\s+of\s+|\bwithout\s+|"
    r"\bnot\s+identified|\babsence\s+of\s+|\brule\s+out\s+|\bnon-?)$",
    re.I,
)


def _negated(text: str, start: int) -> bool:
    window = text[max(0, start - 40) : start]
    window = re.split(r"[.;:]\s", window)[-1]
    return bool(_NEGATION.search(window))


def classify_type(text: str) -> str | None:
    """The first invasive (else in situ, else generic) type named in `text`; used on reference answers."""
    mentions = find_types(text)
    if not mentions:
        return None
    ranked = sorted(mentions, key=lambda m: (m.type.in_situ, m.type.name == "carcinoma", m.start))
    return ranked[0].type.name
