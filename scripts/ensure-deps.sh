#!/usr/bin/env bash
# Installs what vexo-sv's demo or test suite needs, only when missing, and touches apt not at all
# when nothing is: `ensure-deps.sh demo` (supervisor, php-cli, npm deps) or `ensure-deps.sh test`
# (also PHP's SQLite driver and Laravel for the end-to-end tests, zsh and fish for the completion
# tests, util-linux and passwd for locks and the security tests, ansible-core for the test of
# docs/ansible, prometheus (for promtool) and prometheus-node-exporter for the metrics test, curl
# and jq for the README's alert recipe). apt
# runs as root or through sudo; its output goes to a log file, and one line says what is being
# installed.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pkgs=()
command -v supervisord >/dev/null 2>&1 || pkgs+=(supervisor)
command -v php >/dev/null 2>&1 || pkgs+=(php-cli)
command -v flock >/dev/null 2>&1 || pkgs+=(util-linux)
if [ "$mode" = "test" ]; then
  # The module list is read whole before grep looks at it: `php -m | grep -q` under pipefail
  # fails whenever grep exits first and php gets SIGPIPE.
  modules="$(php -m 2>/dev/null || true)"
  grep -qix 'pdo_sqlite' <<<"$modules" || pkgs+=(php-sqlite3)
  [ -f /usr/share/php/Illuminate/autoload.php ] || pkgs+=(php-laravel-framework)
  command -v zsh >/dev/null 2>&1 || pkgs+=(zsh)
  command -v fish >/dev/null 2>&1 || pkgs+=(fish)
  command -v useradd >/dev/null 2>&1 || [ -x /usr/sbin/useradd ] || pkgs+=(passwd)
  command -v ansible-playbook >/dev/null 2>&1 || pkgs+=(ansible-core)
  command -v promtool >/dev/null 2>&1 || pkgs+=(prometheus)
  command -v prometheus-node-exporter >/dev/null 2>&1 || pkgs+=(prometheus-node-exporter)
  # The README's Slack recipe for alerts, run against a local webhook by tests/integration/alerts.test.ts.
  command -v curl >/dev/null 2>&1 || pkgs+=(curl)
  command -v jq >/dev/null 2>&1 || pkgs+=(jq)
fi
if [ ${#pkgs[@]} -gt 0 ]; then
  log="$(mktemp /tmp/vexo-sv-apt.XXXXXX.log)"
  echo "==> installing Debian packages: ${pkgs[*]} (apt's output: $log)" >&2
  if ! { $SUDO apt-get update -q && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"; } >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    echo "==> apt-get failed; the whole output is in $log" >&2
    exit 1
  fi
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi
