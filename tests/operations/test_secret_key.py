"""The SECRET_KEY a local studio generates in DATA_DIR: one key, whichever process writes it first."""

from __future__ import annotations

import secrets

from studio_site import settings as studio_settings


def test_processes_starting_together_on_a_new_data_folder_all_keep_the_first_key(tmp_path, monkeypatch):
    # Stored provider keys are encrypted with a key derived from SECRET_KEY: a web process and a
    # worker (or two parallel test workers) starting on a new DATA_DIR must agree on it.
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(studio_settings, "DATA_DIR", tmp_path)
    generate = secrets.token_urlsafe

    def another_process_writes_its_key_meanwhile(nbytes):
        (tmp_path / "secret_key").write_text("the-other-process-key")
        return generate(nbytes)

    monkeypatch.setattr(secrets, "token_urlsafe", another_process_writes_its_key_meanwhile)

    assert studio_settings._secret_key() == "the-other-process-key"
    assert (tmp_path / "secret_key").read_text() == "the-other-process-key"
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no draft left behind


def test_a_new_data_folder_gets_a_key_that_later_starts_read_back(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr(studio_settings, "DATA_DIR", tmp_path / "data")

    key = studio_settings._secret_key()

    assert len(key) >= 50
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o777 == 0o600
    assert studio_settings._secret_key() == key
