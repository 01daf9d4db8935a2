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
    # Root only prepares directories and drops to postgres, and each step runs only when it is
    # needed: on a fresh named volume (Docker copies the image's postgres-owned 0700 $PGDATA into
    # it) and on every restart, nothing is changed, so the container runs with no-new-privileges
    # and every capability dropped but SETUID and SETGID (setpriv's). Repairing a directory that
    # is not Postgres' also needs CHOWN and FOWNER (and DAC_READ_SEARCH when it holds data).
    if ! setpriv --reuid=postgres --regid=postgres --init-groups true 2>/dev/null; then
        log "cannot switch to the postgres user: the container needs CAP_SETUID and CAP_SETGID"; exit 1
    fi
    pg_ids="$(id -u postgres):$(id -g postgres)"
    own_dir() { # <dir> <mode as stat %a prints it>
        mkdir -p "$1"
        if [ "$(stat -c %u:%g "$1")" != "$pg_ids" ]; then chown postgres:postgres "$1"; fi
        if [ "$(stat -c %a "$1")" != "$2" ]; then chmod "$2" "$1"; fi
    }
    own_dir /var/run/postgresql 2775
    # A volume from elsewhere (root-owned, or written under another image's postgres uid): hand
    # over whatever in it is not Postgres' yet.
    if [ "$(stat -c %u:%g "$PGDATA")" != "$pg_ids" ]; then
        mkdir -p "$PGDATA"
        find "$PGDATA" \! -user postgres -exec chown postgres:postgres '{}' +
    fi
    own_dir "$PGDATA" 700
    # A password file postgres cannot read (uploaded for root, mode 0400) gets a postgres-owned
    # copy that the first init reads and deletes. Only needed before the cluster exists, and
    # not at all for a file uploaded with the postgres owner (Slipway's ManagedDatabase does).
    if [ ! -s "$PGDATA/PG_VERSION" ] && [ -n "${POSTGRES_PASSWORD_FILE:-}" ] \
        && ! setpriv --reuid=postgres --regid=postgres --init-groups test -r "$POSTGRES_PASSWORD_FILE"; then
        if [ ! -r "$POSTGRES_PASSWORD_FILE" ]; then
            log "POSTGRES_PASSWORD_FILE=$POSTGRES_PASSWORD_FILE is not readable"; exit 1
        fi
        # In /tmp (root may write there without CAP_DAC_OVERRIDE); chmod while root still owns it.
        handoff="$(umask 077 && mktemp /tmp/.pwfile.XXXXXX)"
        cat "$POSTGRES_PASSWORD_FILE" >"$handoff"
        chmod 0400 "$handoff"
        chown postgres:postgres "$handoff"
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
