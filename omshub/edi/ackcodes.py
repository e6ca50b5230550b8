"""The X12 acknowledgement code lists a 997/TA1 may carry, with what each code means.

A code outside these lists makes the partner's translator reject our acknowledgement itself,
so `acks` refuses one before writing (`check_code`). Lists are the X12 dictionary's for
004010; 005010 added the codes marked in `ADDED_5010`. The descriptions feed error messages
and docs/edi-acks.md.
"""

from __future__ import annotations

from oms.errors import DataError

# AK304 (720): what is wrong with a segment
SEGMENT_ERRORS = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Mandatory segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
}

# AK403 (723): what is wrong with an element
ELEMENT_ERRORS = {
    "1": "Mandatory data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
}

# AK502..AK506 (718): why a transaction set was not accepted as is
SET_ERRORS = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Transaction set control number in header and trailer do not match",
    "4": "Number of included segments does not match actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "8": "Authentication key name unknown",
    "9": "Encryption key name unknown",
    "10": "Requested service (authentication or encryption) not available",
    "11": "Unknown security recipient",
    "12": "Incorrect message length (encryption only)",
    "13": "Message authentication code failed",
    "15": "Unknown security originator",
    "16": "Syntax error in decrypted text",
    "17": "Security not supported",
    "18": "Transaction set not in functional group",
    "19": "Invalid transaction set implementation convention reference",
    "23": "Transaction set control number not unique within the functional group",
    "24": "S3E security end segment missing for S3S security start segment",
    "25": "S3S security start segment missing for S3E security end segment",
    "26": "S4E security end segment missing for S4S security start segment",
    "27": "S4S security start segment missing for S4E security end segment",
}

# AK905..AK909 (716): what is wrong with the functional group
GROUP_ERRORS = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control number in the header and trailer do not agree",
    "5": "Number of included transaction sets does not match actual count",
    "6": "Group control number violates syntax",
    "10": "Authentication key name unknown",
    "11": "Encryption key name unknown",
    "12": "Requested service (authentication or encryption) not available",
    "13": "Unknown security recipient",
    "14": "Unknown security originator",
    "15": "Syntax error in decrypted text",
    "16": "Security not supported",
    "17": "Incorrect message length (encryption only)",
    "18": "Message authentication code failed",
    "19": "Functional group control number not unique within interchange",
    "23": "S3E security end segment missing for S3S security start segment",
    "24": "S3S security start segment missing for S3E security end segment",
    "25": "S4E security end segment missing for S4S security start segment",
    "26": "S4S security start segment missing for S4E security end segment",
}

# TA105 (I18): the interchange note code
INTERCHANGE_NOTES = {
    "000": "No error",
    "001": "The interchange control number in the header and trailer do not match",
    "002": "This standard as noted in the control standards identifier is not supported",
    "003": "This version of the controls is not supported",
    "004": "The segment terminator is invalid",
    "005": "Invalid interchange ID qualifier for sender",
    "006": "Invalid interchange sender ID",
    "007": "Invalid interchange ID qualifier for receiver",
    "008": "Invalid interchange receiver ID",
    "009": "Unknown interchange receiver ID",
    "010": "Invalid authorization information qualifier value",
    "011": "Invalid authorization information value",
    "012": "Invalid security information qualifier value",
    "013": "Invalid security information value",
    "014": "Invalid interchange date value",
    "015": "Invalid interchange time value",
    "016": "Invalid interchange standards identifier value",
    "017": "Invalid interchange version ID value",
    "018": "Invalid interchange control number value",
    "019": "Invalid acknowledgment requested value",
    "020": "Invalid test indicator value",
    "021": "Invalid number of included groups value",
    "022": "Invalid control structure",
    "023": "Improper (premature) end-of-file (transmission)",
    "024": "Invalid interchange content (e.g., invalid GS segment)",
    "025": "Duplicate interchange control number",
    "026": "Invalid data element separator",
    "027": "Invalid component element separator",
    "028": "Invalid delivery date in deferred delivery request",
    "029": "Invalid delivery time in deferred delivery request",
    "030": "Invalid delivery time code in deferred delivery request",
    "031": "Invalid grade of service code",
}

# codes that exist only from 005010 on: a 004010 997 may not carry them
ADDED_5010 = {
    "AK403": {"12", "13"},
    "AK502": {"18", "19"},
    "AK905": {"19"},
}

# codes only a 999 (implementation acknowledgment, 005010X231) may carry: IK304, IK403, IK502
IMPLEMENTATION_ONLY = {
    "AK304": {
        "I4": "Implementation 'not used' segment present",
        "I6": "Implementation dependent segment missing",
        "I7": "Implementation loop occurs under minimum times",
        "I8": "Implementation segment below minimum use",
        "I9": "Implementation dependent 'not used' segment present",
    },
    "AK403": {
        "I6": "Code value not used in implementation",
        "I9": "Implementation dependent data element missing",
        "I10": "Implementation 'not used' data element present",
        "I11": "Implementation too few repetitions",
        "I12": "Implementation pattern match failure",
        "I13": "Implementation dependent 'not used' data element present",
    },
    "AK502": {
        "I5": "Implementation one or more segments in error",
        "I6": "Implementation convention not supported",
    },
}

_LISTS = {
    "AK304": SEGMENT_ERRORS,
    "AK403": ELEMENT_ERRORS,
    "AK502": SET_ERRORS,
    "AK905": GROUP_ERRORS,
    "TA105": INTERCHANGE_NOTES,
}


class AckCodeError(DataError):
    """A code given for an acknowledgement is not one the element allows (for this version)."""

    def __init__(self, field: str, code: str, version: str) -> None:
        self.field = field
        self.code = code
        super().__init__(f"{field}: {code!r} is not a valid code for version {version}")


def _table(field: str, kind: str) -> dict[str, str]:
    table = _LISTS[field]
    return {**table, **IMPLEMENTATION_ONLY.get(field, {})} if kind == "999" else table


def check_code(field: str, code: str, version: str, kind: str = "997") -> str:
    """`code` when `field` (AK304, AK403, AK502, AK905, TA105) allows it in `version` (GS08).

    In a 999 the same fields are IK304, IK403 and IK502, with the I-codes added.
    """
    if code not in _table(field, kind) or (
        version < "005010" and code in ADDED_5010.get(field, set())
    ):
        raise AckCodeError(field, code, version)
    return code


def usable(field: str, code: str, version: str, kind: str = "997") -> str | None:
    """`code` when `version` has it; None for a code only later versions have.

    For the envelope codes the reader finds (AK502, AK905): a 004010 group whose GS06 was
    used twice is still acknowledged (R, without the 005010-only code 19) rather than not at
    all. A code no version has is refused (AckCodeError), as by `check_code`.
    """
    if code not in _table(field, kind):
        raise AckCodeError(field, code, version)
    return None if version < "005010" and code in ADDED_5010.get(field, set()) else code


def describe(field: str, code: str) -> str:
    """What `code` means in `field`, e.g. describe('AK502', '4'); '' when unknown."""
    return _table(field, "999").get(code, "")
