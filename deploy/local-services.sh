#!/usr/bin/env bash
# Make sure the RabbitMQ and PostgreSQL the integration tests use are running on
# this machine (127.0.0.1, guest/guest and trust auth), installing them from
# Debian's packages if they are missing. Used by `./dev test` and `.ci/run`.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v rabbitmq-server >/dev/null || ! command -v pg_ctlcluster >/dev/null; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rabbitmq-server postgresql
fi

# The printer's fonts (its PDF tests need them).
bash "$(dirname "$0")/install-fonts.sh"
bash "$(dirname "$0")/install-browser.sh"

if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  echo "starting PostgreSQL" >&2
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
fi

if ! as_root rabbitmqctl -q status >/dev/null 2>&1; then
  echo "starting RabbitMQ" >&2
  as_root rabbitmq-server -detached
fi
as_root rabbitmqctl -q await_startup --timeout 120 >/dev/null
# A stop_app left by an interrupted test run leaves the node up but the app down.
if ! as_root rabbitmqctl -q list_queues name >/dev/null 2>&1; then
  as_root rabbitmqctl -q start_app
fi

for _ in $(seq 1 60); do
  pg_isready -q -h 127.0.0.1 -p 5432 && break
  sleep 1
done
pg_isready -h 127.0.0.1 -p 5432
