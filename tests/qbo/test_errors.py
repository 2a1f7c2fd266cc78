from __future__ import annotations

import json

import pytest

from qbsync.errors import ErrorCode
from qbsync.qbo.errors import (
    AuthenticationError,
    AuthorizationError,
    DuplicateDocNumber,
    DuplicateNameError,
    InvalidGrant,
    InvalidReference,
    ObjectNotFound,
    QboError,
    QboValidationError,
    ServerError,
    StaleObjectError,
    ThrottledError,
    parse_fault,
)


def qbo_fault(code: str, type_: str = "ValidationFault", element: str = "") -> str:
    error = {"Message": "Something failed", "Detail": f"detail of {code}", "code": code}
    if element:
        error["element"] = element
    return json.dumps({"Fault": {"Error": [error], "type": type_}, "time": "2026-11-20T10:33:39"})


@pytest.mark.parametrize(
    ("code", "cls"),
    [
        ("5010", StaleObjectError),
        ("610", ObjectNotFound),
        ("6240", DuplicateNameError),
        ("6140", DuplicateDocNumber),
        ("2500", InvalidReference),
        ("2050", QboValidationError),
        ("6000", QboValidationError),
    ],
)
def test_json_fault_codes_map_to_types(code: str, cls: type[QboError]) -> None:
    err = parse_fault(400, qbo_fault(code, element="DocNumber"), "tid-123")
    assert type(err) is cls
    assert err.status == 400 and err.qbo_code == code and err.element == "DocNumber"
    assert err.fault_type == "ValidationFault" and err.detail == f"detail of {code}"
    assert err.intuit_tid == "tid-123" and "tid-123" in err.message
    assert "\n" not in err.message


def test_gateway_lower_case_401() -> None:
    body = {
        "fault": {
            "error": [
                {
                    "message": "message=AuthenticationFailed; errorCode=003200; statusCode=401",
                    "detail": "Token expired",
                    "code": "3200",
                }
            ],
            "type": "AUTHENTICATION",
        }
    }
    err = parse_fault(401, json.dumps(body), "t1")
    assert isinstance(err, AuthenticationError)
    assert err.qbo_code == "3200" and err.detail == "Token expired"
    assert err.code == ErrorCode.RECONNECT_REQUIRED and err.exit_code == 3


XML_THROTTLE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3" time="2026-11-20T10:00:00">'
    '<Fault type="SERVICE"><Error code="3001"><Message>message=ThrottleExceeded; '
    "errorCode=003001; statusCode=429</Message><Detail>The request limit was reached.</Detail>"
    "</Error></Fault></IntuitResponse>"
)
XML_AUTH = (
    '<IntuitResponse xmlns="http://schema.intuit.com/finance/v3">'
    '<Fault type="AuthenticationFault"><Error code="100"><Message>General Authentication Error'
    "</Message><Detail>AuthenticationErrorGeneral: SRV-110-Authentication Failure , statusCode: "
    "401</Detail></Error></Fault></IntuitResponse>"
)


def test_xml_faults() -> None:
    throttle = parse_fault(429, XML_THROTTLE, "t2")
    assert isinstance(throttle, ThrottledError) and throttle.qbo_code == "3001"
    assert throttle.fault_type == "SERVICE"
    auth = parse_fault(401, XML_AUTH)
    assert isinstance(auth, AuthenticationError) and auth.qbo_code == "100"


def test_authorization_server_and_oauth_shapes() -> None:
    assert isinstance(parse_fault(403, qbo_fault("3100", "AuthorizationFault")), AuthorizationError)
    assert isinstance(parse_fault(400, qbo_fault("120", "AuthorizationFault")), AuthorizationError)
    assert isinstance(parse_fault(500, qbo_fault("10000", "SystemFault")), ServerError)
    assert isinstance(parse_fault(503, "<html>Service Unavailable</html>"), ServerError)
    grant = parse_fault(400, json.dumps({"error": "invalid_grant"}))
    assert isinstance(grant, InvalidGrant) and grant.exit_code == 3
    other = parse_fault(401, json.dumps({"error": "invalid_client"}))
    assert type(other) is QboError and other.qbo_code == "invalid_client"


def test_messages_never_carry_tokens() -> None:
    body = json.dumps(
        {
            "Fault": {
                "Error": [
                    {"Message": "bad", "Detail": "Bearer abcdefghijklmnopqrstuvwx", "code": "6000"}
                ],
                "type": "ValidationFault",
            }
        }
    )
    err = parse_fault(400, body)
    assert "abcdefghijklmnop" not in err.message
