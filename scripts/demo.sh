#!/usr/bin/env bash
# vexo-sv doing its main job against a private supervisord in ./demo (nothing in /etc):
# set it up, add a worker for the sample app, list it, show its log, remove it, stop.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh demo
npm run build --silent
vexo() { echo "\$ vexo-sv $*" >&2; node bin/vexo-sv.cjs "$@"; }

vexo install --prefix "$PWD/demo/sv"
export VEXO_SV_CONFIG="$PWD/demo/sv/supervisord.conf"
# As root, the worker runs as the safe default (www-data, never root), on a copy of the sample
# app that www-data can enter (a checkout under /root is closed to it); as anyone else, as you.
app="$PWD/tests/fixtures/sample-app"
user=()
if [ "$(id -u)" -eq 0 ]; then
  app="$(mktemp -d /tmp/vexo-sv-demo-app.XXXXXX)"
  trap 'rm -rf "$app"' EXIT
  cp tests/fixtures/sample-app/artisan "$app/"
  chmod 755 "$app" "$app/artisan"
else
  user=(--user "$(id -un)")
fi
vexo worker add --name demo-queue --path "$app" --procs 2 --queue high,default "${user[@]}"
vexo worker ls
vexo logs demo-queue -n 3
vexo worker rm demo-queue
vexo shutdown
