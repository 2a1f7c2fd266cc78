"""What Intuit's gateway and the proxies in front of QBO answer before a request reaches the
company: the gateway's lower-case JSON (401, 403), Intuit's XML faults (401 code 100, 429
throttles, 504 timeouts) and the proxy's HTML outage pages (502, 503)."""

from __future__ import annotations

from typing import Any


def gateway_body(
    fault_type: str, code: str, message: str, detail: str | None, time_ms: int
) -> dict[str, Any]:
    """The API gateway's own lower-case envelope, sent before the request reaches QBO: every
    key of its response object, most of them null, and `time` in epoch milliseconds."""
    return {
        "warnings": None,
        "intuitObject": None,
        "fault": {
            "error": [{"message": message, "detail": detail, "code": code, "element": None}],
            "type": fault_type,
        },
        "report": None,
        "queryResponse": None,
        "batchItemResponse": [],
        "attachableResponse": [],
        "syncErrorResponse": None,
        "requestId": None,
        "time": time_ms,
        "status": None,
        "cdcresponse": [],
    }


def gateway_401(time_ms: int, detail: str = "Token expired") -> dict[str, Any]:
    """401 from the gateway: the access token is expired, revoked or unknown."""
    return gateway_body(
        "AUTHENTICATION",
        "3200",
        "message=AuthenticationFailed; errorCode=003200; statusCode=401",
        detail,
        time_ms,
    )


def gateway_403(time_ms: int, detail: str | None = None) -> dict[str, Any]:
    """403 from the gateway: a valid token used on a company (or scope) it was not granted."""
    return gateway_body(
        "SERVICE",
        "3100",
        "message=AuthorizationFailed; errorCode=003100; statusCode=403",
        detail,
        time_ms,
    )


_XML_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
_XML_NS = "http://schema.intuit.com/finance/v3"


def xml_fault(time: str, fault_type: str, code: str, message: str, detail: str) -> bytes:
    return (
        f'{_XML_HEAD}<IntuitResponse xmlns="{_XML_NS}" time="{time}">'
        f'<Fault type="{fault_type}"><Error code="{code}"><Message>{message}</Message>'
        f"<Detail>{detail}</Detail></Error></Fault></IntuitResponse>"
    ).encode()


def xml_auth_100(time: str) -> bytes:
    return xml_fault(
        time,
        "AuthenticationFault",
        "100",
        "General Authentication Error",
        "AuthenticationErrorGeneral: SRV-110-Authentication Failure , statusCode: 401",
    )


def xml_forbidden(time: str, detail: str) -> bytes:
    """403 asked for as XML: the gateway's 3100 in Intuit's XML fault (an empty Detail when
    there is nothing to say)."""
    return xml_fault(
        time,
        "SERVICE",
        "3100",
        "message=AuthorizationFailed; errorCode=003100; statusCode=403",
        detail,
    )


def xml_throttle(time: str) -> bytes:
    return xml_fault(
        time,
        "SERVICE",
        "3001",
        "message=ThrottleExceeded; errorCode=003001; statusCode=429",
        "The request limit was reached.",
    )


_GATEWAY_TITLES = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}
GATEWAY_STATUSES = (502, 503, 504)


def gateway_outage(status: int, time: str) -> tuple[str, bytes]:
    """(content type, body) of an intermittent outage in front of QBO: 502 and 503 come as the
    proxy's own HTML page, 504 as Intuit's XML fault 6002 (GatewayTimeout)."""
    if status == 504:
        return "application/xml", xml_fault(
            time, "SERVICE", "6002", "message=GatewayTimeout; errorCode=006002; statusCode=504", ""
        ).replace(b"<Detail></Detail>", b"")
    title = _GATEWAY_TITLES[status]
    page = (
        f'<html>\r\n<head><title>{title}</title></head>\r\n<body bgcolor="white">\r\n'
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n"
        "</body>\r\n</html>\r\n"
    )
    return "text/html", page.encode()
