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
# The worker runs as you; as root that has to be asked for (--allow-root).
allow=(); [ "$(id -u)" -eq 0 ] && allow=(--allow-root)
vexo worker add --name demo-queue --path "$PWD/tests/fixtures/sample-app" --procs 2 --queue high,default --user "$(id -un)" "${allow[@]}"
vexo worker ls
vexo logs demo-queue -n 3
vexo worker rm demo-queue
vexo shutdown
