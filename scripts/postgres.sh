#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the shared backend (#19):
#   scripts/postgres.sh start DIR   installs PostgreSQL with apt-get when
#                                   missing, creates a cluster in DIR, starts
#                                   it on 127.0.0.1 and prints its URL;
#   scripts/postgres.sh stop DIR    stops it (DIR can then be removed).
# The cluster trusts loopback connections of the `anist` role only; it
# holds synthetic data and lives as long as the test run. As root (CI), the
# server runs as the `postgres` user, since PostgreSQL refuses root.
set -euo pipefail

cmd=${1:?usage: postgres.sh start|stop DIR}
dir=${2:?usage: postgres.sh start|stop DIR}
port=${ANIST_PG_PORT:-54329}

bindir() {
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
    echo "$d"
}

as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

case "$cmd" in
start)
    if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ]; then
        echo "installing PostgreSQL with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        # The package's own cluster is not started (no init system here).
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
    fi
    bin=$(bindir)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    chmod 0700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    # Sized for tests: a few dozen connections, no fsync (throwaway data).
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c \
        "SELECT 1 FROM pg_roles WHERE rolname = 'anist'" | grep -q 1 ||
        as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE ROLE anist LOGIN"
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qAt -c \
        "SELECT 1 FROM pg_database WHERE datname = 'anist_test'" | grep -q 1 ||
        as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -q -c "CREATE DATABASE anist_test OWNER anist"
    echo "postgres://anist@127.0.0.1:$port/anist_test?sslmode=disable"
    ;;
stop)
    bin=$(bindir)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    ;;
*)
    echo "usage: postgres.sh start|stop DIR" >&2
    exit 2
    ;;
esac
