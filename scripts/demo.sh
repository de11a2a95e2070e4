#!/usr/bin/env bash
# The demo of the README: fresh OVN_Northbound and OVN_Southbound databases served by ovnctl db-serve on the
# standard OVN sockets and ports, so that ovn-nbctl, ovn-sbctl and ovn-northd work with their defaults.
# Runs in the foreground until Ctrl-C. Set OVNCTL_DEMO_DIR to keep the databases elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d dist/commands ] || npm run build >&2

state=${OVNCTL_DEMO_DIR:-/var/lib/ovnctl-demo}
run=${OVN_RUNDIR:-/var/run/ovn}
mkdir -p "$state" "$run"
for db in nb sb; do
  node bin/run.js db-create --force --yes "$state/ovn${db}_db.db" "$db"
done

cat >&2 <<TXT

ovnctl db-serve is serving fresh OVN databases:
  OVN_Northbound  unix:$run/ovnnb_db.sock  tcp:127.0.0.1:6641
  OVN_Southbound  unix:$run/ovnsb_db.sock  tcp:127.0.0.1:6642
Try, in another shell:  ovn-nbctl ls-add sw0 && ovn-nbctl show
                        ovn-northd --pidfile --detach && ovn-sbctl lflow-list | head
Stop with Ctrl-C.

TXT
exec node bin/run.js db-serve \
  --remote="punix:$run/ovnnb_db.sock" --remote="punix:$run/ovnsb_db.sock" \
  --remote=ptcp:6641:127.0.0.1 --remote=ptcp:6642:127.0.0.1 \
  --unixctl="$run/ovnctl-db-serve.ctl" \
  "$state/ovnnb_db.db" "$state/ovnsb_db.db"
