"""The S3 backend of the portal's private storages (STORAGE_BACKEND=s3; review_portal/storage.py
says what is stored). A module of its own so that the embedded default never imports boto3."""

from storages.backends.s3 import S3Storage

from review_portal.storage import refuse_url


class PrivateS3Storage(S3Storage):
    """django-storages' S3 backend, private: objects get the bucket's own (private) access, never
    a public ACL, and no URL is ever made for them, presigned or not."""

    def url(self, name, parameters=None, expire=None, http_method=None):
        return refuse_url(name)
