"""Python IDL client for the interop tests: connects to REMOTE with the schema at SCHEMA, monitors
Logical_Switch (conditionally when asked), applies commands read from stdin one per line, and prints
one JSON line per event on stdout so the test can follow it.

Commands: "wait N" (run until the IDL has seen N Logical_Switch rows), "insert NAME" (a transaction
through the IDL), "cond NAME" (restrict the monitor to that switch name), "dump" (print the rows).
"""
import json
import sys

import ovs.db.idl
import ovs.vlog
from idl_util import run_until

ovs.vlog.Vlog.init(None)


def rows(idl):
    return sorted(r.name for r in idl.tables["Logical_Switch"].rows.values())


def main():
    remote, schema_path = sys.argv[1], sys.argv[2]
    helper = ovs.db.idl.SchemaHelper(schema_path)
    helper.register_columns("Logical_Switch", ["name", "other_config"])
    idl = ovs.db.idl.Idl(remote, helper)
    ok = run_until(idl, lambda: idl.has_ever_connected() and idl.change_seqno > 0)
    print(json.dumps({"event": "connected", "ok": ok, "rows": rows(idl)}), flush=True)
    for line in sys.stdin:
        cmd, _, arg = line.strip().partition(" ")
        if cmd == "wait":
            ok = run_until(idl, lambda: len(rows(idl)) == int(arg))
            print(json.dumps({"event": "wait", "ok": ok, "rows": rows(idl)}), flush=True)
        elif cmd == "insert":
            txn = ovs.db.idl.Transaction(idl)
            row = txn.insert(idl.tables["Logical_Switch"])
            row.name = arg
            status = txn.commit_block()
            print(json.dumps({"event": "insert", "status": ovs.db.idl.Transaction.status_to_string(status)}), flush=True)
        elif cmd == "cond":
            idl.cond_change("Logical_Switch", [["name", "==", arg]])
            ok = run_until(idl, lambda: rows(idl) == [arg])
            print(json.dumps({"event": "cond", "ok": ok, "rows": rows(idl)}), flush=True)
        elif cmd == "dump":
            print(json.dumps({"event": "dump", "rows": rows(idl)}), flush=True)
    idl.close()


main()
