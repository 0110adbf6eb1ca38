"""The embedded default's admin key: made once, kept private, reused, replaced when lost."""

from __future__ import annotations

from sharepack.runtime import Runtime
from sharepack.usecases.identity import LOCAL_ADMIN_KEY_NAME, ensure_local_admin_key
from tests.api_server import TEST_OPERATOR


def test_the_key_is_made_once_in_a_private_file_and_reused(runtime: Runtime) -> None:
    key, made = ensure_local_admin_key(runtime, TEST_OPERATOR)
    again, made_again = ensure_local_admin_key(runtime, TEST_OPERATOR)

    path = runtime.settings.local_admin_key_file
    assert made
    assert not made_again
    assert again == key
    assert path.read_text().strip() == key
    assert path.stat().st_mode & 0o777 == 0o600
    assert runtime.settings.api_key_pepper_file.stat().st_mode & 0o777 == 0o600


def test_a_file_the_database_does_not_know_is_replaced_and_the_old_key_revoked(
    runtime: Runtime,
) -> None:
    first, _ = ensure_local_admin_key(runtime, TEST_OPERATOR)
    runtime.settings.local_admin_key_file.write_text("spk_0123456789ab_" + "A" * 43)

    second, made = ensure_local_admin_key(runtime, TEST_OPERATOR)

    assert made
    assert second != first
    with runtime.database.unit_of_work() as uow:
        keys = [k for k in uow.api_keys.all(include_revoked=True) if k.name == LOCAL_ADMIN_KEY_NAME]
        actions = [e.action for e in uow.audit_trail.search()]
    assert [k.revoked_at is None for k in keys].count(True) == 1
    assert len(keys) == 2
    assert actions.count("revoke_api_key") == 1
    assert actions.count("create_api_key") == 2
