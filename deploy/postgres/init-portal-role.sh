#!/bin/bash
# The portal's own database role: not a superuser, owner of its database and nothing else.
#
# The postgres image runs this once, when its data volume is first initialised (files in
# /docker-entrypoint-initdb.d/), connected as POSTGRES_USER, the cluster's administrator. The
# application never uses that administrator: a superuser bypasses every permission check, so a
# SQL injection or a compromised web process would own the whole cluster (it could read files,
# run programs as the server, drop other databases). As the owner of its database the portal
# still runs every migration, including the audit trail's append-only trigger (plpgsql is a
# trusted language, and a table's owner may put triggers on it).
#
# Environment: PORTAL_DB_PASSWORD (required), PORTAL_DB_USER and PORTAL_DB_NAME (default
# `portal`), and the image's POSTGRES_USER / POSTGRES_DB. Run by hand against another server,
# set PGHOST and friends as for any psql.
set -euo pipefail

: "${PORTAL_DB_PASSWORD:?set PORTAL_DB_PASSWORD}"
PORTAL_DB_USER="${PORTAL_DB_USER:-portal}"
PORTAL_DB_NAME="${PORTAL_DB_NAME:-portal}"

# psql's :"name" and :'value' quote identifiers and literals, so no value is pasted into SQL.
psql -v ON_ERROR_STOP=1 --no-psqlrc \
    --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-${POSTGRES_USER:-postgres}}" \
    -v role="$PORTAL_DB_USER" -v db="$PORTAL_DB_NAME" -v password="$PORTAL_DB_PASSWORD" <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password'
    NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
CREATE DATABASE :"db" OWNER :"role";
-- Only its owner (and the administrator) may connect to the portal's database.
REVOKE ALL ON DATABASE :"db" FROM PUBLIC;
\connect :"db"
-- PostgreSQL 15 gives the public schema to the database owner already; older versions do not.
ALTER SCHEMA public OWNER TO :"role";
SQL
