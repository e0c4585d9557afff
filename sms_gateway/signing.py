"""Aliyun RPC signature (SignatureVersion 1.0, HMAC-SHA1), for verifying requests.

The provider itself lets the SDK sign; this module is the server side, used by the
simulator to prove that what the SDK sent is correctly signed.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import quote


def percent_encode(value: str) -> str:
    """RFC 3986 encoding as Aliyun specifies: only A-Z a-z 0-9 - _ . ~ stay literal."""
    return quote(value, safe="~")


def string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """``METHOD&%2F&`` + the encoded, key-sorted canonical query (``Signature`` excluded)."""
    canonical = "&".join(
        f"{percent_encode(key)}={percent_encode(params[key])}" for key in sorted(params) if key != "Signature"
    )
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical)}"


def rpc_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """Base64 HMAC-SHA1 of :func:`string_to_sign` keyed with ``secret + "&"``."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign(method, params).encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_matches(method: str, params: Mapping[str, str], secret: str) -> bool:
    """True when ``params["Signature"]`` is the right signature for the other params."""
    given = params.get("Signature", "")
    return hmac.compare_digest(given.encode(), rpc_signature(method, params, secret).encode())
