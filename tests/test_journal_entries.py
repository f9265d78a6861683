"""What the request journal keeps of a request, and how it shows it."""

from simulator.server.journal_entries import RequestRecord, pack_headers, redact_headers


def test_headers_are_packed_and_shown_with_secrets_masked() -> None:
    packed = pack_headers(
        (
            (b"Host", b"127.0.0.1:8080"),
            (b"Authorization", b"Bearer s3cr3t"),
            (b"ccmessaging-token", b"eyJ0b2tlbiI6MX0%3D"),
            (b"X-Admin-Token", b"admin"),
            (b"X-Note", b"a: b"),
        )
    )
    assert isinstance(packed, bytes)
    assert redact_headers(packed) == {
        "Host": "127.0.0.1:8080",
        "Authorization": "Bearer ***",
        "ccmessaging-token": "***",
        "X-Admin-Token": "***",
        "X-Note": "a: b",
    }
    assert redact_headers(pack_headers(())) == {}


def test_record_json_masks_secret_body_fields() -> None:
    record = RequestRecord(
        1, "POST", "/apigovernance/api/oauth/tokenByAkSk", "", pack_headers(()),
        b'{"app_key":"k","app_secret":"s"}', 200, b'{"AccessToken":"t","Expires":"600"}',
        1.5, None,
    )  # fmt: skip
    shown = record.to_json()
    assert shown["body"] == {"app_key": "k", "app_secret": "***"}
    assert shown["response"] == {"AccessToken": "***", "Expires": "600"}
