#!/bin/sh
# Run by the one-shot `storage-init` service (docker-compose.yml) as MinIO's administrator, at
# every `docker compose up`; idempotent. Creates the portal's bucket, private (no anonymous
# access), and the portal's own MinIO user, which may use that bucket and nothing else: the app
# never holds the administrator's keys (as it never connects to PostgreSQL as its superuser).
# Only sh builtins and mc: the MinIO image has little else.
set -eu
: "${S3_BUCKET:?set S3_BUCKET}" "${S3_ACCESS_KEY_ID:?set S3_ACCESS_KEY_ID}"
: "${S3_SECRET_ACCESS_KEY:?set S3_SECRET_ACCESS_KEY}"
# MC_HOST_admin (set by compose) is the administrator's alias: http://user:password@minio:9000.

mc mb --ignore-existing "admin/${S3_BUCKET}"
mc anonymous set none "admin/${S3_BUCKET}"

policy=/tmp/portal-bucket-policy.json
printf '%s\n' "{
  \"Version\": \"2012-10-17\",
  \"Statement\": [
    {\"Effect\": \"Allow\",
     \"Action\": [\"s3:ListBucket\", \"s3:GetBucketLocation\", \"s3:ListBucketMultipartUploads\"],
     \"Resource\": [\"arn:aws:s3:::${S3_BUCKET}\"]},
    {\"Effect\": \"Allow\",
     \"Action\": [\"s3:GetObject\", \"s3:PutObject\", \"s3:DeleteObject\",
                \"s3:AbortMultipartUpload\", \"s3:ListMultipartUploadParts\"],
     \"Resource\": [\"arn:aws:s3:::${S3_BUCKET}/*\"]}
  ]
}" > "$policy"
mc admin policy create admin portal-bucket "$policy"
mc admin user add admin "${S3_ACCESS_KEY_ID}" "${S3_SECRET_ACCESS_KEY}"
# Attaching a policy the user has already is an error in mc: attach only when it is missing.
case "$(mc admin user info admin "${S3_ACCESS_KEY_ID}")" in
    *portal-bucket*) ;;
    *) mc admin policy attach admin portal-bucket --user "${S3_ACCESS_KEY_ID}" ;;
esac
echo "bucket ${S3_BUCKET} ready for ${S3_ACCESS_KEY_ID}"
