"""The object-storage backend (S3 or anything that speaks its API: MinIO, Ceph, R2, moto), built in
one place so the settings and the tests that run against a real server use the very same options."""

from __future__ import annotations

S3_BACKEND = "storages.backends.s3.S3Storage"


def s3_backend(
    *,
    bucket_name: str,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    addressing_style: str | None = None,
    location: str = "",
    access_key: str | None = None,
    secret_key: str | None = None,
) -> dict:
    """A ``STORAGES`` entry for django-storages' S3Storage. Without keys, boto3's own chain finds the
    credentials (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the environment, or the machine's role)."""
    options: dict = {
        "bucket_name": bucket_name,
        "endpoint_url": endpoint_url or None,
        "region_name": region_name or None,
        "addressing_style": addressing_style or None,
        "location": location,  # a key prefix, to share a bucket
        "signature_version": "s3v4",
        # PDFs carry names: objects get no ACL (the bucket's own, private) and reach visitors only
        # through our views, which check the certificate's state on every request.
        "default_acl": None,
        "querystring_auth": True,
        # A branding file is printed by name on every version that used it: a new upload with the
        # same file name must get a new key, as on local disk, never replace the old object.
        "file_overwrite": False,
        # Reads are buffered in memory up to this, then in a temporary file (large ZIP exports).
        "max_memory_size": 8 * 1024 * 1024,
    }
    if access_key:
        options["access_key"], options["secret_key"] = access_key, secret_key
    return {"BACKEND": S3_BACKEND, "OPTIONS": options}
