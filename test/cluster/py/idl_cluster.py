"""Python IDL client for the cluster tests: connects (leader-only, the IDL's default) to a comma-separated
list of REMOTES with the OVN_Southbound schema at SCHEMA, monitors Address_Set names, reads commands from
stdin one per line and prints one JSON line per command on stdout. Every event names the remote the IDL is
connected to, so the test can tell whether it found the leader.

A third argument "any" connects to any server, not only a leader (leader_only=False, as for a relay, whose
_Server row says leader=false).

Commands: "wait NAME" (run until the IDL holds an Address_Set NAME), "insert NAME" (a transaction through
the IDL, retried while it says "try again", as ovsdb-idl clients do after a reconnect), "dump", "session" (the
session's sequence number, which changes on every connect and disconnect).
Every wait is bounded by LIMIT_S.
"""
import json
import os
import sys
import time

import ovs.db.idl
import ovs.vlog

# run_until is shared with the interop tests' IDL helper.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'interop', 'py'))
from idl_util import run_until  # noqa: E402

ovs.vlog.Vlog.init(None)

LIMIT_S = 15.0


def names(idl):
    return sorted(r.name for r in idl.tables["Address_Set"].rows.values())


def synced(idl):
    return idl.has_ever_connected() and idl._session.is_connected() and idl.change_seqno > 0


def insert(idl, name):
    deadline = time.time() + LIMIT_S
    attempts = 0
    status = ovs.db.idl.Transaction.TRY_AGAIN
    while time.time() < deadline and status == ovs.db.idl.Transaction.TRY_AGAIN:
        attempts += 1
        if not run_until(idl, limit_s=LIMIT_S, done=lambda: synced(idl)):
            break
        if name in names(idl):
            # An earlier attempt committed although its reply was lost.
            return "success", attempts
        txn = ovs.db.idl.Transaction(idl)
        row = txn.insert(idl.tables["Address_Set"])
        row.name = name
        row.addresses = []
        status = txn.commit_block()
    return ovs.db.idl.Transaction.status_to_string(status), attempts


def event(idl, **fields):
    fields["remote"] = idl.session_name()
    print(json.dumps(fields), flush=True)


def main():
    remotes, schema_path = sys.argv[1], sys.argv[2]
    leader_only = len(sys.argv) < 4 or sys.argv[3] != "any"
    helper = ovs.db.idl.SchemaHelper(schema_path)
    helper.register_columns("Address_Set", ["name", "addresses"])
    idl = ovs.db.idl.Idl(remotes, helper, leader_only=leader_only)
    ok = run_until(idl, limit_s=LIMIT_S, done=lambda: synced(idl))
    event(idl, event="connected", ok=ok, rows=names(idl))
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "wait":
            ok = run_until(idl, limit_s=LIMIT_S, done=lambda: arg in names(idl))
            event(idl, event="wait", ok=ok, rows=names(idl))
        elif cmd == "insert":
            status, attempts = insert(idl, arg)
            event(idl, event="insert", status=status, attempts=attempts, rows=names(idl))
        elif cmd == "dump":
            event(idl, event="dump", rows=names(idl))
        elif cmd == "session":
            event(idl, event="session", seqno=idl._session.get_seqno())
    idl.close()


main()
