from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sms_gateway_fakes import expected_signature

from sms_gateway.signing import rpc_signature, signature_matches, string_to_sign

# The worked example in Aliyun's SMS "HTTP protocol and signature" documentation.
DOC_PARAMS = {
    "AccessKeyId": "testId",
    "Action": "SendSms",
    "Format": "XML",
    "OutId": "123",
    "PhoneNumbers": "15300000001",
    "RegionId": "cn-hangzhou",
    "SignName": "阿里云短信测试专用",
    "SignatureMethod": "HMAC-SHA1",
    "SignatureNonce": "45e25e9b-0a6f-4070-8c85-2956eda1b466",
    "SignatureVersion": "1.0",
    "TemplateCode": "SMS_71390007",
    "TemplateParam": '{"customer":"test"}',
    "Timestamp": "2017-07-12T02:42:19Z",
    "Version": "2017-05-25",
}


def test_documented_example_signature() -> None:
    assert rpc_signature("GET", DOC_PARAMS, "testSecret") == "zJDF+Lrzhj/ThnlvIToysFRq6t4="
    assert string_to_sign("GET", DOC_PARAMS).startswith("GET&%2F&AccessKeyId%3DtestId%26Action%3DSendSms")


def test_signature_matches_only_the_right_secret_and_params() -> None:
    signed = dict(DOC_PARAMS, Signature="zJDF+Lrzhj/ThnlvIToysFRq6t4=")
    assert signature_matches("GET", signed, "testSecret")
    assert not signature_matches("GET", signed, "otherSecret")
    assert not signature_matches("POST", signed, "testSecret")
    assert not signature_matches("GET", dict(signed, PhoneNumbers="15300000002"), "testSecret")


@given(st.dictionaries(st.text(min_size=1), st.text(), max_size=6), st.sampled_from(["GET", "POST"]))
def test_agrees_with_the_independent_test_implementation(params: dict[str, str], method: str) -> None:
    assert rpc_signature(method, params, "s3cret") == expected_signature(method, params, "s3cret")
