# Sourced by scripts that need a PostgreSQL server: `start_postgres` makes
# sure the server binaries are installed (Debian's packages when missing),
# starts a throwaway cluster on a free loopback port with a temporary data
# folder, and exports FLOVYN_TEST_POSTGRES_URL; `stop_postgres` stops it
# and removes the folder. Runs as root too (the cluster then runs as the
# `postgres` user, which the package creates).

pg_bin=""
pg_data=""
pg_port=""

find_pg_bin() {
  local dir
  if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
    dirname "$(readlink -f "$(command -v initdb)")"
    return 0
  fi
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

install_pg() {
  echo "PostgreSQL server not found: installing Debian's postgresql package" >&2
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >&2
  $sudo apt-get install -y -qq postgresql >&2
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Runs a command as the cluster's owner.
as_pg_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

start_postgres() {
  pg_bin=$(find_pg_bin) || { install_pg && pg_bin=$(find_pg_bin); } || {
    echo "no PostgreSQL server binaries after installing (looked for initdb and pg_ctl)" >&2
    return 1
  }
  pg_data=$(mktemp -d /tmp/flovyn-pg.XXXXXX)
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_data"; fi
  pg_port=$(free_port)
  # Passwords are checked over TCP (scram), as on a real server, so that
  # tests can see an authentication failure; the socket stays trusted.
  pg_password=flovyn-test
  echo "$pg_password" >"$pg_data/pw"
  if [ "$(id -u)" -eq 0 ]; then chown postgres "$pg_data/pw"; fi
  as_pg_owner "$pg_bin/initdb" -D "$pg_data/data" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$pg_data/pw" -E UTF8 --no-sync >"$pg_data/initdb.log" 2>&1 || {
    cat "$pg_data/initdb.log" >&2
    return 1
  }
  # Sockets in the temp folder; durability as in production (fsync on).
  as_pg_owner "$pg_bin/pg_ctl" -D "$pg_data/data" -l "$pg_data/server.log" -w -t 60 \
    -o "-p $pg_port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$pg_data -c max_connections=400" \
    start >/dev/null || {
    cat "$pg_data/server.log" >&2
    return 1
  }
  export FLOVYN_TEST_POSTGRES_URL="postgres://postgres:$pg_password@127.0.0.1:$pg_port/postgres"
  echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$pg_port (data in $pg_data)" >&2
}

stop_postgres() {
  if [ -n "$pg_data" ] && [ -d "$pg_data/data" ]; then
    as_pg_owner "$pg_bin/pg_ctl" -D "$pg_data/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  if [ -n "$pg_data" ]; then rm -rf "$pg_data"; fi
  pg_data=""
}
