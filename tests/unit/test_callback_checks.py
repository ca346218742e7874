"""`notifiers.callbacks`: the checks of inbound DingTalk and Feishu callbacks.

Vectors are computed here independently (hmac/hashlib directly; AES with pycryptodome, while
the server decrypts with `cryptography`), plus the platforms' published examples.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from Crypto.Cipher import AES
from hypothesis import given
from hypothesis import strategies as st

from notifiers.callbacks import (
    CallbackIgnored,
    CallbackRefused,
    FeishuChallenge,
    InboundText,
    check_dingtalk,
    check_feishu,
    dingtalk_sign,
    feishu_decrypt,
    feishu_signature,
)
from tests.fakes.callbacks import DingTalkCallbacks, FeishuCallbacks, feishu_encrypt

NOW_S = 1_717_203_600  # 2024-06-01 09:00 +08:00
NOW_MS = NOW_S * 1000
SECRET = "SECxyz-app-secret"
TOKEN = "verification-token-1"
KEY = "encrypt-key-1"


def _clock() -> float:
    return float(NOW_S)


def _hmac_b64(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _refused(call: Any, *args: Any, **kwargs: Any) -> CallbackRefused:
    with pytest.raises(CallbackRefused) as caught:
        call(*args, **kwargs)
    return caught.value


# ---- DingTalk ---------------------------------------------------------------------------------

DINGTALK = DingTalkCallbacks("http://unused", SECRET, clock=_clock)


def _dingtalk(headers: dict[str, str], raw: bytes, now_ms: int = NOW_MS) -> InboundText:
    return check_dingtalk(headers, raw, app_secret=SECRET, now_ms=now_ms)


def test_dingtalk_sign_matches_the_published_vector() -> None:
    # DingTalk's example for the robot signature (the same construction both ways).
    expected = "fFV9t5lBS7KH4+5B0JjR99ab+AJkXFauQXycgTkS/tc="
    assert dingtalk_sign("1577836800000", "this is secret") == expected


@given(st.text(min_size=1), st.integers(min_value=0, max_value=10**13))
def test_dingtalk_sign_is_the_published_construction(secret: str, timestamp: int) -> None:
    assert dingtalk_sign(str(timestamp), secret) == _hmac_b64(secret, f"{timestamp}\n{secret}")


@given(
    st.text(min_size=1, max_size=40),
    st.integers(min_value=NOW_MS - 3_600_000, max_value=NOW_MS + 3_600_000),
    st.text(max_size=100),
)
def test_dingtalk_signed_callbacks_pass_for_any_secret_time_and_text(
    secret: str, timestamp_ms: int, text: str
) -> None:
    fake = DingTalkCallbacks("http://unused", secret, clock=_clock)
    headers, raw = fake.request(fake.body(text, sender_staff_id="u1"), timestamp_ms=timestamp_ms)
    inbound = check_dingtalk(headers, raw, app_secret=secret, now_ms=NOW_MS)
    assert inbound.text == " " + text


def test_a_dingtalk_message_is_read_with_every_field() -> None:
    body = DINGTALK.body(
        "2024-03 进展 60% 细则已起草",
        sender_staff_id="staff-9",
        sender_nick="李静",
        conversation_id="cid-7",
        conversation_title="县财政局群",
        msg_id="msg-1",
        session_webhook="https://oapi.dingtalk.com/robot/sendBySession?session=x",
        expires_ms=NOW_MS + 5_400_000,
    )
    headers, raw = DINGTALK.request(body)
    assert _dingtalk(headers, raw) == InboundText(
        platform="dingtalk",
        message_id="msg-1",
        conversation_id="cid-7",
        conversation_title="县财政局群",
        sender_ids=("staff-9",),
        sender_name="李静",
        text=" 2024-03 进展 60% 细则已起草",
        sent_at_ms=NOW_MS,
        reply_url="https://oapi.dingtalk.com/robot/sendBySession?session=x",
        reply_expires_ms=NOW_MS + 5_400_000,
        check="dingtalk-sign",
        is_group=True,
    )


def test_dingtalk_headers_are_case_insensitive() -> None:
    headers, raw = DINGTALK.request(DINGTALK.body("帮助", sender_staff_id="u1"))
    upper = {key.upper(): value for key, value in headers.items()}
    assert _dingtalk(upper, raw).text == " 帮助"


def test_a_sender_without_a_staff_id_has_no_ids() -> None:
    body = DINGTALK.body("帮助", sender_staff_id="u1")
    del body["senderStaffId"]
    assert _dingtalk(*DINGTALK.request(body)).sender_ids == ()


@pytest.mark.parametrize(
    ("change", "status", "reason"),
    [
        ({"sign": None}, 401, "dingtalk-signature-missing"),
        ({"timestamp": None}, 401, "dingtalk-signature-missing"),
        ({"sign": _hmac_b64("other", f"{NOW_MS}\nother")}, 401, "dingtalk-signature-wrong"),
        ({"sign": "not base64 at all"}, 401, "dingtalk-signature-wrong"),
        ({"timestamp": "12ab"}, 401, "dingtalk-timestamp-malformed"),
    ],
)
def test_a_bad_dingtalk_signature_is_401(
    change: dict[str, str | None], status: int, reason: str
) -> None:
    headers, raw = DINGTALK.request(DINGTALK.body("帮助", sender_staff_id="u1"))
    for name, value in change.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    refused = _refused(_dingtalk, headers, raw)
    assert (refused.status, refused.reason) == (status, reason)


def test_a_timestamp_signed_for_another_time_is_401() -> None:
    headers, raw = DINGTALK.request(DINGTALK.body("帮助", sender_staff_id="u1"))
    headers["timestamp"] = str(NOW_MS + 1)  # the sign was made for NOW_MS
    assert _refused(_dingtalk, headers, raw).status == 401


@pytest.mark.parametrize("offset_ms", [3_600_001, -3_600_001, 86_400_000])
def test_a_dingtalk_timestamp_over_an_hour_off_is_403(offset_ms: int) -> None:
    body = DINGTALK.body("帮助", sender_staff_id="u1")
    headers, raw = DINGTALK.request(body, timestamp_ms=NOW_MS - offset_ms)
    refused = _refused(_dingtalk, headers, raw)
    assert (refused.status, refused.reason) == (403, "dingtalk-timestamp-stale")


@pytest.mark.parametrize("offset_ms", [3_600_000, -3_600_000, 0])
def test_a_dingtalk_timestamp_within_the_hour_passes(offset_ms: int) -> None:
    body = DINGTALK.body("帮助", sender_staff_id="u1")
    headers, raw = DINGTALK.request(body, timestamp_ms=NOW_MS - offset_ms)
    assert _dingtalk(headers, raw).message_id == body["msgId"]


@pytest.mark.parametrize(
    "edit",
    [
        lambda body: "not json",
        lambda body: [body],
        lambda body: {k: v for k, v in body.items() if k != "msgId"},
        lambda body: {k: v for k, v in body.items() if k != "conversationId"},
        lambda body: {k: v for k, v in body.items() if k != "createAt"},
        lambda body: {k: v for k, v in body.items() if k != "msgtype"},
        lambda body: {**body, "text": {"content": 5}},
        lambda body: {**body, "createAt": "soon"},
    ],
)
def test_a_signed_body_that_is_not_a_dingtalk_message_is_400(edit: Any) -> None:
    body = edit(DINGTALK.body("帮助", sender_staff_id="u1"))
    headers, _ = DINGTALK.request({})
    raw = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    assert _refused(_dingtalk, headers, raw).status == 400


def test_a_dingtalk_picture_is_ignored_with_200() -> None:
    body = DINGTALK.body("", sender_staff_id="u1")
    body["msgtype"] = "picture"
    del body["text"]
    refused = _refused(_dingtalk, *DINGTALK.request(body))
    assert isinstance(refused, CallbackIgnored)
    assert refused.status == 200


def test_a_refusal_names_neither_the_secret_nor_the_body() -> None:
    body = DINGTALK.body("机密内容", sender_staff_id="u1")
    headers, raw = DINGTALK.request(body, sign="wrong")
    refused = _refused(_dingtalk, headers, raw)
    assert SECRET not in str(refused)
    assert "机密内容" not in str(refused)
    assert refused.reason.isascii()


# ---- Feishu -----------------------------------------------------------------------------------

PLAIN = FeishuCallbacks("http://unused", TOKEN, None, clock=_clock)
SEALED = FeishuCallbacks("http://unused", TOKEN, KEY, clock=_clock)


def _feishu(
    headers: dict[str, str], raw: bytes, key: str | None = KEY, now_ms: int = NOW_MS
) -> InboundText | FeishuChallenge:
    return check_feishu(headers, raw, verification_token=TOKEN, encrypt_key=key, now_ms=now_ms)


def _signed(raw: bytes, timestamp: str = str(NOW_S), nonce: str = "n-1") -> dict[str, str]:
    signature = hashlib.sha256((timestamp + nonce + KEY).encode() + raw).hexdigest()
    return {
        "X-Lark-Request-Timestamp": timestamp,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": signature,
    }


def _sealed_raw(plain: bytes, key: str = KEY) -> bytes:
    return json.dumps({"encrypt": feishu_encrypt(key, plain)}).encode()


def test_feishu_decrypt_matches_the_published_example() -> None:
    # Feishu's documentation: Encrypt Key "test key", encrypt "P37w…" is "hello world".
    assert feishu_decrypt("test key", "P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=") == (
        b"hello world"
    )


@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=30), st.binary(max_size=200))
def test_feishu_signature_is_the_published_construction(
    timestamp: str, nonce: str, key: str, raw: bytes
) -> None:
    expected = hashlib.sha256(timestamp.encode() + nonce.encode() + key.encode() + raw)
    assert feishu_signature(timestamp, nonce, key, raw) == expected.hexdigest()


@given(
    st.text(min_size=1, max_size=40), st.binary(max_size=300), st.binary(min_size=16, max_size=16)
)
def test_decrypt_undoes_an_independent_encryption(key: str, plain: bytes, iv: bytes) -> None:
    assert feishu_decrypt(key, feishu_encrypt(key, plain, iv)) == plain


@given(st.text(max_size=100), st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40))
def test_feishu_sealed_events_pass_for_any_key_token_and_text(
    text: str, key: str, token: str
) -> None:
    fake = FeishuCallbacks("http://unused", token, key, clock=_clock)
    headers, raw = fake.request(fake.message_event(text, user_id="u1"))
    inbound = check_feishu(headers, raw, verification_token=token, encrypt_key=key, now_ms=NOW_MS)
    assert isinstance(inbound, InboundText)
    assert inbound.text == "@_user_1 " + text


def test_a_plain_feishu_message_is_read_after_its_token() -> None:
    event = PLAIN.message_event("2024-03 签收", user_id="u-5", open_id="ou_5", chat_id="oc_9")
    inbound = _feishu(*PLAIN.request(event), key=None)
    assert inbound == InboundText(
        platform="feishu",
        message_id=event["header"]["event_id"],
        conversation_id="oc_9",
        conversation_title="",
        sender_ids=("u-5", "ou_5"),
        sender_name="",
        text="@_user_1 2024-03 签收",
        sent_at_ms=NOW_MS,
        reply_url=None,
        reply_expires_ms=None,
        check="feishu-token",
        is_group=True,
    )


def test_a_sealed_feishu_message_is_read_after_signature_and_decryption() -> None:
    event = SEALED.message_event("帮助", open_id="ou_5")
    inbound = _feishu(*SEALED.request(event))
    assert isinstance(inbound, InboundText)
    assert inbound.sender_ids == ("ou_5",)
    assert inbound.check == "feishu-signature+aes"


def test_feishu_url_verification_answers_the_challenge() -> None:
    assert _feishu(*PLAIN.request(PLAIN.url_verification("c-1")), key=None) == FeishuChallenge(
        "c-1"
    )
    assert _feishu(*SEALED.request(SEALED.url_verification("c-2"))) == FeishuChallenge("c-2")
    # Encrypted but without the signature headers: decrypting needs the key, the token matches.
    _, raw = SEALED.request(SEALED.url_verification("c-3"))
    assert _feishu({}, raw) == FeishuChallenge("c-3")


def test_a_url_verification_with_the_wrong_token_is_401() -> None:
    other = FeishuCallbacks("http://unused", "wrong-token", None, clock=_clock)
    refused = _refused(_feishu, *other.request(other.url_verification()), key=None)
    assert (refused.status, refused.reason) == (401, "feishu-token-wrong")
    sealed = FeishuCallbacks("http://unused", "wrong-token", KEY, clock=_clock)
    assert _refused(_feishu, *sealed.request(sealed.url_verification())).status == 401


@pytest.mark.parametrize("fake", [PLAIN, SEALED], ids=["plain", "sealed"])
def test_a_message_event_with_the_wrong_token_is_401(fake: FeishuCallbacks) -> None:
    event = fake.message_event("帮助", user_id="u1")
    event["header"]["token"] = "wrong-token"
    assert _refused(_feishu, *fake.request(event), key=fake.encrypt_key).status == 401
    del event["header"]["token"]
    assert _refused(_feishu, *fake.request(event), key=fake.encrypt_key).status == 401


def test_a_sealed_event_without_signature_headers_is_401() -> None:
    _, raw = SEALED.request(SEALED.message_event("帮助", user_id="u1"))
    refused = _refused(_feishu, {}, raw)
    assert (refused.status, refused.reason) == (401, "feishu-signature-missing")
    partial = {"X-Lark-Request-Timestamp": str(NOW_S)}
    assert _refused(_feishu, partial, raw).status == 401


def test_a_wrong_feishu_signature_is_401() -> None:
    headers, raw = SEALED.request(SEALED.message_event("帮助", user_id="u1"))
    headers["X-Lark-Signature"] = "0" * 64
    assert _refused(_feishu, headers, raw).reason == "feishu-signature-wrong"


def test_a_tampered_feishu_body_is_401() -> None:
    headers, _ = SEALED.request(SEALED.message_event("2024-03 进展 10%", user_id="u1"))
    other = _sealed_raw(json.dumps(SEALED.message_event("2024-03 进展 90%", user_id="u1")).encode())
    refused = _refused(_feishu, headers, other)
    assert (refused.status, refused.reason) == (401, "feishu-signature-wrong")


@pytest.mark.parametrize("offset_s", [3601, -3601, 7 * 86400])
def test_a_feishu_timestamp_over_an_hour_off_is_403(offset_s: int) -> None:
    event = SEALED.message_event("帮助", user_id="u1")
    headers, raw = SEALED.request(event, timestamp=NOW_S - offset_s)
    refused = _refused(_feishu, headers, raw)
    assert (refused.status, refused.reason) == (403, "feishu-timestamp-stale")


def test_a_feishu_timestamp_within_the_hour_passes() -> None:
    event = SEALED.message_event("帮助", user_id="u1")
    assert isinstance(_feishu(*SEALED.request(event, timestamp=NOW_S - 3600)), InboundText)


def _bad_padding() -> str:
    """Two blocks whose plaintext ends in 0x00: no PKCS#7 padding ends so."""
    key = hashlib.sha256(KEY.encode()).digest()
    iv = bytes(16)
    cipher = AES.new(key, AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(b"{}" + bytes(14))).decode()


@pytest.mark.parametrize(
    ("encrypted", "reason"),
    [
        ("%%% not base64 %%%", "feishu-decrypt-base64"),
        ("QUJD", "feishu-decrypt-length"),  # "ABC": shorter than IV + one block
        (base64.b64encode(bytes(40)).decode(), "feishu-decrypt-length"),
        (_bad_padding(), "feishu-decrypt-padding"),
        (feishu_encrypt("another key", b'{"type":"url_verification"}'), None),
        (feishu_encrypt(KEY, "不是 JSON".encode()), "feishu-decrypt-not-json"),
    ],
    # Named, not by value: the ciphertexts have random IVs, and every pytest-xdist worker must
    # collect the same test ids.
    ids=["not-base64", "too-short", "no-whole-block", "bad-padding", "other-key", "not-json"],
)
def test_a_body_that_fails_decryption_is_403(encrypted: str, reason: str | None) -> None:
    raw = json.dumps({"encrypt": encrypted}).encode()
    refused = _refused(_feishu, _signed(raw), raw)
    assert refused.status == 403
    if reason is not None:
        assert refused.reason == reason


@given(st.binary(max_size=200))
def test_decrypting_garbage_is_refused_never_crashes(garbage: bytes) -> None:
    encrypted = base64.b64encode(bytes(16) + garbage).decode()
    outcome: object
    try:
        outcome = feishu_decrypt(KEY, encrypted)
    except CallbackRefused as refused:
        outcome = refused.status
    assert isinstance(outcome, bytes) or outcome == 403


def test_a_wrong_encrypt_key_is_403_for_a_message() -> None:
    raw = _sealed_raw(json.dumps(SEALED.message_event("帮助", user_id="u1")).encode(), "other")
    assert _refused(_feishu, _signed(raw), raw).status == 403


def test_a_plain_body_when_a_key_is_set_and_a_sealed_one_without_are_403() -> None:
    headers, raw = PLAIN.request(PLAIN.message_event("帮助", user_id="u1"))
    assert _refused(_feishu, _signed(raw), raw).reason == "feishu-not-encrypted"
    headers, raw = SEALED.request(SEALED.message_event("帮助", user_id="u1"))
    assert _refused(_feishu, headers, raw, key=None).reason == "feishu-encrypted-without-key"


def test_other_feishu_events_and_non_text_messages_are_ignored_with_200() -> None:
    other = PLAIN.message_event("帮助", user_id="u1")
    other["header"]["event_type"] = "im.chat.member.bot.added_v1"
    image = PLAIN.message_event("", user_id="u1")
    image["event"]["message"]["message_type"] = "image"
    schema_1 = {"uuid": "u", "token": TOKEN, "ts": "1", "type": "event_callback", "event": {}}
    for body in (other, image, schema_1):
        refused = _refused(_feishu, *PLAIN.request(body), key=None)
        assert isinstance(refused, CallbackIgnored)
        assert refused.status == 200
    schema_1["token"] = "wrong"
    assert _refused(_feishu, *PLAIN.request(schema_1), key=None).status == 401


@pytest.mark.parametrize(
    "edit",
    [
        lambda e: e["event"]["message"].update(content="not json"),
        lambda e: e["event"]["message"].update(content='{"image_key": "x"}'),
        lambda e: e["event"]["message"].pop("chat_id"),
        lambda e: e["header"].pop("event_id"),
        lambda e: e["header"].pop("create_time"),
        lambda e: e.pop("event"),
    ],
)
def test_a_malformed_feishu_message_is_400(edit: Any) -> None:
    event = PLAIN.message_event("帮助", user_id="u1")
    edit(event)
    assert _refused(_feishu, *PLAIN.request(event), key=None).status == 400


def test_a_body_too_large_is_413() -> None:
    raw = b"{" + b" " * 300_000 + b"}"
    assert _refused(_feishu, {}, raw, key=None).status == 413
    assert _refused(_dingtalk, {}, raw).status == 413


# ---- the fakes over real HTTP -----------------------------------------------------------------


class _Checker(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        headers = dict(self.headers.items())
        try:
            if self.path == "/dingtalk":
                result: object = check_dingtalk(headers, raw, app_secret=SECRET, now_ms=NOW_MS)
            else:
                result = _feishu(headers, raw)
        except CallbackRefused as refused:
            self.send_response(refused.status)
            self.end_headers()
            return
        answer = (
            {"challenge": result.challenge}
            if isinstance(result, FeishuChallenge)
            else {"text": getattr(result, "text", "")}
        )
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def checker() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Checker)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_the_fakes_post_what_the_checks_accept_over_http(checker: str) -> None:
    dingtalk = DingTalkCallbacks(f"{checker}/dingtalk", SECRET, clock=_clock)
    answer = dingtalk.post(dingtalk.body("签收 2024-03", sender_staff_id="u1"))
    assert (answer.status_code, answer.json()) == (200, {"text": " 签收 2024-03"})
    assert dingtalk.post(dingtalk.body("帮助", sender_staff_id="u1"), sign="x").status_code == 401

    feishu = FeishuCallbacks(f"{checker}/feishu", TOKEN, KEY, clock=_clock)
    assert feishu.post(feishu.url_verification("c-9")).json() == {"challenge": "c-9"}
    answer = feishu.post(feishu.message_event("帮助", user_id="u1"))
    assert (answer.status_code, answer.json()) == (200, {"text": "@_user_1 帮助"})
    assert feishu.post({}, raw=b'{"encrypt": "AAAA"}').status_code == 403
    stale = feishu.post(feishu.message_event("帮助", user_id="u1"), timestamp=NOW_S - 7200)
    assert stale.status_code == 403
