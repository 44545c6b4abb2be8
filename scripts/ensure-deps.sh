#!/usr/bin/env bash
# Installs what vexo-sv's demo and tests need, only when missing: Debian's supervisor and PHP
# (apt-get, as root or through sudo) and the npm dependencies (npm ci).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

pkgs=()
command -v supervisord >/dev/null 2>&1 || pkgs+=(supervisor)
command -v php >/dev/null 2>&1 || pkgs+=(php-cli)
php -m 2>/dev/null | grep -qi '^pdo_sqlite$' || pkgs+=(php-sqlite3)
[ -f /usr/share/php/Illuminate/autoload.php ] || pkgs+=(php-laravel-framework)
command -v flock >/dev/null 2>&1 || pkgs+=(util-linux)
# The shells whose completion scripts the tests run.
command -v zsh >/dev/null 2>&1 || pkgs+=(zsh)
command -v fish >/dev/null 2>&1 || pkgs+=(fish)
if [ ${#pkgs[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${pkgs[*]}" >&2
  $SUDO apt-get update -q
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"
fi

# npm ci when node_modules is missing or older than the lock file.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "==> npm ci" >&2
  npm ci --no-audit --no-fund
fi
