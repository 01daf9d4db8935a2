#!/usr/bin/env bash
# Entrypoint compatible with the official postgres image's contract (the parts Slipway uses):
#   POSTGRES_USER (default postgres), POSTGRES_DB (default = user), POSTGRES_PASSWORD_FILE (or
#   POSTGRES_PASSWORD), POSTGRES_INITDB_ARGS, POSTGRES_HOST_AUTH_METHOD (default scram-sha-256),
#   /docker-entrypoint-initdb.d/*.sh|*.sql|*.sql.gz run once, on first init, in name order.
# Runs Postgres as the postgres user (uid 999), listening on all interfaces, as PID 1 (exec), so
# Docker's stop signal reaches it directly.
set -Eeuo pipefail

log() { echo "entrypoint: $*" >&2; }

if [ "$#" -eq 0 ] || [ "${1:0:1}" = '-' ]; then
    set -- postgres "$@"
fi

# Only the server is set up; any other command (psql, bash, pg_isready) runs as given.
if [ "$1" != 'postgres' ]; then
    exec "$@"
fi

if [ "$(id -u)" = '0' ]; then
    mkdir -p "$PGDATA" /var/run/postgresql
    chown postgres:postgres /var/run/postgresql
    chmod 2775 /var/run/postgresql
    # A fresh volume belongs to root; only fix ownership of what is not already Postgres'.
    find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    chmod 0700 "$PGDATA"
    # A password file uploaded for root (mode 0400) is unreadable to postgres: hand over a copy
    # that the first init reads and deletes. Only needed before the cluster exists.
    if [ ! -s "$PGDATA/PG_VERSION" ] && [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        if [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
            log "POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE is not readable"; exit 1
        fi
        handoff="$(mktemp /var/run/postgresql/.pwfile.XXXXXX)"
        cat "$POSTGRES_PASSWORD_FILE" >"$handoff"
        chown postgres:postgres "$handoff"
        chmod 0400 "$handoff"
        export POSTGRES_PASSWORD_FILE="$handoff" SLIPWAY_PWFILE_HANDOFF=1
    fi
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$BASH_SOURCE" "$@"
fi

POSTGRES_USER="${POSTGRES_USER:-postgres}"
POSTGRES_DB="${POSTGRES_DB:-$POSTGRES_USER}"
POSTGRES_HOST_AUTH_METHOD="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"

if [ -n "${POSTGRES_PASSWORD_FILE:-}" ] && [ -n "${POSTGRES_PASSWORD:-}" ]; then
    log "set only one of POSTGRES_PASSWORD_FILE and POSTGRES_PASSWORD"; exit 1
fi

first_init() {
    local pwfile="" tmpdir=""
    if [ -n "${POSTGRES_PASSWORD_FILE:-}" ]; then
        [ -r "$POSTGRES_PASSWORD_FILE" ] || { log "POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE is not readable by uid $(id -u)"; exit 1; }
        [ -s "$POSTGRES_PASSWORD_FILE" ] || { log "POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE is empty"; exit 1; }
        pwfile="$POSTGRES_PASSWORD_FILE"
    elif [ -n "${POSTGRES_PASSWORD:-}" ]; then
        tmpdir="$(mktemp -d)"
        pwfile="$tmpdir/pw"
        ( umask 077; printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile" )
    elif [ "$POSTGRES_HOST_AUTH_METHOD" != 'trust' ]; then
        log "no superuser password: set POSTGRES_PASSWORD_FILE (or POSTGRES_HOST_AUTH_METHOD=trust for throwaway tests)"
        exit 1
    fi

    log "initialising $PGDATA for user \"$POSTGRES_USER\", database \"$POSTGRES_DB\""
    # initdb reads the password's first line from the file: the value never enters argv or env.
    # shellcheck disable=SC2086
    initdb --username="$POSTGRES_USER" ${pwfile:+--pwfile="$pwfile"} \
        --auth-local=trust --auth-host="$POSTGRES_HOST_AUTH_METHOD" ${POSTGRES_INITDB_ARGS:-} >&2
    if [ -n "$tmpdir" ]; then rm -rf "$tmpdir"; fi
    if [ -n "${SLIPWAY_PWFILE_HANDOFF:-}" ]; then rm -f "$POSTGRES_PASSWORD_FILE"; fi
    unset POSTGRES_PASSWORD

    {
        echo
        echo "# Slipway entrypoint: any address, password auth (the container is reached over its network)."
        echo "host all all all $POSTGRES_HOST_AUTH_METHOD"
    } >>"$PGDATA/pg_hba.conf"
    {
        echo
        echo "listen_addresses = '*'"
        echo "password_encryption = scram-sha-256"
    } >>"$PGDATA/postgresql.conf"

    # A private server (socket only) for the database and the init scripts.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -p 5432" -w -t 60 start >&2
    local psql=(psql -v ON_ERROR_STOP=1 --no-password --no-psqlrc --username "$POSTGRES_USER")
    if [ "$POSTGRES_DB" != 'postgres' ]; then
        "${psql[@]}" --dbname postgres --set db="$POSTGRES_DB" <<<'CREATE DATABASE :"db";' >&2
    fi
    local f
    for f in /docker-entrypoint-initdb.d/*; do
        [ -e "$f" ] || continue
        case "$f" in
            *.sh)
                if [ -x "$f" ]; then log "running $f"; "$f"
                else log "sourcing $f"; # shellcheck disable=SC1090
                    . "$f"; fi ;;
            *.sql) log "running $f"; "${psql[@]}" --dbname "$POSTGRES_DB" -f "$f" >&2 ;;
            *.sql.gz) log "running $f"; gunzip -c "$f" | "${psql[@]}" --dbname "$POSTGRES_DB" >&2 ;;
            *) log "ignoring $f" ;;
        esac
    done
    pg_ctl -D "$PGDATA" -m fast -w -t 60 stop >&2
    log "init done"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    first_init
else
    log "$PGDATA already initialised; skipping init"
fi
unset SLIPWAY_PWFILE_HANDOFF POSTGRES_PASSWORD_FILE

exec "$@"
