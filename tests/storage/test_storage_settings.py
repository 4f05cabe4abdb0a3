"""Where media live is read from the environment: local disk unless a bucket is named."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from studio_site.settings import media_storage

S3 = "storages.backends.s3.S3Storage"


def test_without_a_bucket_media_stay_on_local_disk():
    assert media_storage({}) == {"BACKEND": "django.core.files.storage.FileSystemStorage"}


def test_a_storage_url_names_the_bucket_endpoint_region_and_prefix():
    storage = media_storage({"STORAGE_URL": "s3://studio-media/prod?endpoint_url=http://127.0.0.1:9000"
                                            "&region=eu-west-1&addressing_style=path"})
    assert storage["BACKEND"] == S3
    options = storage["OPTIONS"]
    assert (options["bucket_name"], options["endpoint_url"], options["region_name"], options["location"],
            options["addressing_style"]) == ("studio-media", "http://127.0.0.1:9000", "eu-west-1", "prod", "path")


def test_objects_are_private_and_reached_only_through_short_lived_signed_urls():
    options = media_storage({"STORAGE_URL": "s3://studio-media"})["OPTIONS"]
    assert options["default_acl"] == "private"
    assert options["querystring_auth"] is True
    assert options["querystring_expire"] == 300
    assert options["file_overwrite"] is False
    assert "custom_domain" not in options  # a public URL would bypass the access check


def test_aws_style_variables_configure_a_bucket_too():
    storage = media_storage({"AWS_STORAGE_BUCKET_NAME": "media", "AWS_S3_ENDPOINT_URL": "https://r2.example",
                             "AWS_S3_REGION_NAME": "auto", "STORAGE_URL_EXPIRE_SECONDS": "120"})
    assert storage["BACKEND"] == S3
    assert storage["OPTIONS"]["endpoint_url"] == "https://r2.example"
    assert storage["OPTIONS"]["region_name"] == "auto"
    assert storage["OPTIONS"]["querystring_expire"] == 120


def test_credentials_are_not_copied_into_settings():
    # boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY from the environment itself.
    options = media_storage({"S3_BUCKET": "media", "AWS_ACCESS_KEY_ID": "AKIA", "AWS_SECRET_ACCESS_KEY": "s3cret"})
    assert "s3cret" not in repr(options) and "AKIA" not in repr(options)


def test_a_file_url_keeps_media_on_a_local_folder():
    assert media_storage({"STORAGE_URL": "file:///srv/media"}) == {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": "/srv/media"}}


@pytest.mark.parametrize("url", ["gs://bucket", "s3://", "http://example.com/bucket", "file://"])
def test_a_storage_url_of_another_kind_is_refused_with_the_expected_form(url):
    with pytest.raises(ImproperlyConfigured, match="s3://bucket-name"):
        media_storage({"STORAGE_URL": url})
