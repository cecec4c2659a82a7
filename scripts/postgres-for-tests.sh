#!/usr/bin/env bash
# Starts a private PostgreSQL cluster on 127.0.0.1 for the test suite and
# prints the admin URL the tests use to create one database per server.
#   eval "$(scripts/postgres-for-tests.sh start)"   → exports TEST_POSTGRES_URL
#   scripts/postgres-for-tests.sh stop
# The test suite's cluster runs with fsync, synchronous_commit and full-page
# writes off (nothing in it is worth a disk flush), and without autovacuum
# (its databases live for one test server: vacuuming them is work for
# nothing). PG_DURABLE=1 starts it as production runs PostgreSQL instead:
# fsync and synchronous_commit on, every commit flushed before it is answered
# (what bench/ measures; `npm run bench -- --unsafe-pg` keeps fsync=off).
# The port is the first free one from TEST_PGPORT on (not libpq's PGPORT,
# which a developer may have set for another server). Its default lies below
# Linux's ephemeral range (32768-60999): a port in that range can be held by
# any leftover socket of the tests' own servers and clients, which once
# stopped CI's PostgreSQL pass before it began. Callers take the port from
# the printed URL. `start` refuses a folder whose cluster already runs. When
# PostgreSQL does not start, its log goes to stderr.
set -euo pipefail
PGDIR=${PGDIR:-/tmp/latchkey-pg}
first_port=${TEST_PGPORT:-25432}
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-start}" in
  start)
    if [ ! -d "$PGDIR/data" ]; then
      mkdir -p "$PGDIR" && chown "$( [ "$(id -u)" = 0 ] && echo postgres || id -un )" "$PGDIR"
      as_pg "$BIN/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 >/dev/null
    fi
    # Already running (postmaster.pid's fourth line is its port): refused, with its log left alone; it may
    # run with other settings than asked (PG_DURABLE), so it is not reused.
    if as_pg "$BIN/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
      echo "postgres-for-tests.sh: a cluster already runs in $PGDIR (port $(sed -n 4p "$PGDIR/data/postmaster.pid")); stop it first: PGDIR=$PGDIR $0 stop" >&2
      exit 1
    fi
    if [ "${PG_DURABLE:-0}" = 1 ]; then DURABILITY="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"; else DURABILITY="-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c autovacuum=off"; fi
    for port in $(seq "$first_port" $((first_port + 7))); do
      rm -f "$PGDIR/log"
      if said=$(as_pg "$BIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
        -o "-k $PGDIR -p $port -c listen_addresses=127.0.0.1 -c max_connections=300 -c lc_messages=C $DURABILITY" start 2>&1); then
        echo "export TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$port/postgres"
        exit 0
      fi
      # English whatever the locale: lc_messages=C above.
      grep -q 'Address already in use' "$PGDIR/log" 2>/dev/null || break
    done
    echo "postgres-for-tests.sh: PostgreSQL did not start (last port tried: $port). pg_ctl said:" >&2
    echo "$said" >&2
    echo "The end of $PGDIR/log:" >&2
    tail -n 20 "$PGDIR/log" >&2 2>/dev/null || true
    exit 1
    ;;
  stop)
    as_pg "$BIN/pg_ctl" -D "$PGDIR/data" -m fast stop >/dev/null || true
    ;;
esac
