#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests of the shared backend (#19):
#   scripts/postgres.sh start DIR   installs PostgreSQL with apt-get when
#                                   missing, creates a cluster in DIR, starts
#                                   it on 127.0.0.1 and prints its URL;
#   scripts/postgres.sh stop DIR    stops it (DIR can then be removed).
# The cluster trusts loopback connections of the `anist` role only; it
# holds synthetic data and lives as long as the test run. It also speaks
# TLS, with a certificate for 127.0.0.1 issued by a CA made for the run
# (DIR/ca.pem), so that the tests can check that anist verifies it. As root
# (CI), the server runs as the `postgres` user, since PostgreSQL refuses
# root.
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
    if [ -z "$(bindir)" ] || [ ! -x "$(bindir)/initdb" ] || ! command -v openssl >/dev/null; then
        echo "installing PostgreSQL with apt-get" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql openssl >&2
    fi
    bin=$(bindir)
    mkdir -p "$dir"
    [ "$(id -u)" = 0 ] && chown postgres "$dir"
    chmod 0700 "$dir"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        as_owner "$bin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if [ ! -f "$dir/server.pem" ]; then
        (
            cd "$dir"
            openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 7 \
                -subj "/CN=anist test CA" \
                -addext "basicConstraints=critical,CA:TRUE" \
                -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
            openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr \
                -subj "/CN=127.0.0.1" 2>/dev/null
            printf 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n' > server.ext
            openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
                -out server.pem -days 7 -extfile server.ext 2>/dev/null
            rm -f ca.key server.csr server.ext ca.srl
            chmod 0600 server.key
            chmod 0644 ca.pem
            [ "$(id -u)" = 0 ] && chown postgres server.key server.pem
            true
        )
    fi
    # Sized for tests: a few dozen connections, no fsync (throwaway data).
    as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o \
        "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c ssl=on -c ssl_cert_file=$dir/server.pem -c ssl_key_file=$dir/server.key" \
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
