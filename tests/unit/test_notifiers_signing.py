"""The two signature algorithms, checked against the platforms' published test vectors."""

from __future__ import annotations

from notifiers import sign_dingtalk, sign_feishu


def test_dingtalk_signature_matches_the_published_vector() -> None:
    assert (
        sign_dingtalk(1577836800000, "this is secret")
        == "fFV9t5lBS7KH4+5B0JjR99ab+AJkXFauQXycgTkS/tc="
    )


def test_feishu_signature_matches_the_published_vector() -> None:
    assert sign_feishu(1599360473, "test-secret") == "wSds2BzzFIIGf/WrhUO+NI1q/9j+FRJd3JNHKAq0NZY="


def test_the_two_algorithms_differ_for_the_same_inputs() -> None:
    # Feishu keys the HMAC with the string to sign; DingTalk signs it with the secret.
    assert sign_dingtalk(1599360473, "test-secret") != sign_feishu(1599360473, "test-secret")


def test_signatures_are_base64_not_url_encoded() -> None:
    assert "%" not in sign_dingtalk(1577836800000, "this is secret")
    assert "%" not in sign_feishu(1599360473, "test-secret")
