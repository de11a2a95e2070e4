/**
 * Hand-written sections of the man pages, in roff. The exit status table comes from the code
 * (src/core/cli/exit.ts) so that the page cannot drift from what the commands do.
 */
import {exitCodeMeanings} from '../../src/core/cli/exit.js'
import {durationMsMax} from '../../src/core/cli/duration.js'
import {shutdownGraceMs} from '../../src/core/cli/signals.js'
import {roffText} from './roff.js'

/** EXIT STATUS: one tagged paragraph per code. */
export function exitStatusSection(): string {
  const items = exitCodeMeanings.map((m) => `.TP\n.B ${m.code}\n${roffText(m.meaning)}`)
  return [
    '.SH "EXIT STATUS"',
    'Every command exits with one of these codes, with or without \\fB\\-\\-json\\fR:',
    ...items,
  ].join('\n')
}

/** OUTPUT: the contract every command follows (ovnctl(1) only; command pages refer to it). */
export function outputSection(): string {
  return String.raw`.SH OUTPUT
Standard output carries data only.
Messages for people \(em errors, warnings, logs, progress and prompts \(em go to standard error,
so that the output of a command can be piped into another.
.PP
Commands that print records take these options:
.TP
.BR \-f ", " \-\-format =\fIFORMAT\fR
.RS
.TP
.B table
The default: aligned columns, boxed on a terminal, plain text when piped, laid out as
.BR ovsdb\-client (1)
prints tables (a heading line, a line of dashes, columns separated by one space).
Control characters in values are shown escaped (\fB\en\fR, \fB\ex1b\fR).
.TP
.B json
One JSON document, an array of objects, indented on a terminal and compact when piped.
.TP
.B csv
Fields quoted as RFC 4180 says (fields holding commas, quotes or line breaks are quoted, quotes doubled),
a heading line first, lines ended by a newline.
.TP
.B ndjson
One compact JSON object per line.
.RE
.IP
Nested arrays and objects appear in table and csv cells as compact JSON.
.TP
.B \-\-json
The same as \fB\-\-format=json\fR.
.TP
.BI \-\-columns= COLUMN , ...
Show these columns, in this order.
Without it, table, csv and bare output show the command's default columns, and json and ndjson carry every field.
An unknown column is a usage error (exit status 2).
.TP
.B \-\-no\-headings
Omit the heading line of table and csv output.
.TP
.B \-\-bare
Values only: each value on its own line, a blank line between records, no headings; strings unquoted, the
items of a list separated by spaces, an object as \fIkey\fB=\fIvalue\fR pairs.
This is what \fB\-\-bare\fR means to
.BR ovsdb\-client (1)
and
.BR ovn\-nbctl (8).
.PP
Colour is used only on a terminal, never when \fBNO_COLOR\fR is set or \fB\-\-no\-color\fR is given.
Progress is drawn on standard error only when it is a terminal.
.PP
Errors are printed on standard error as \fBovnctl:\fR followed by what failed, the values involved in
quotes, and the detail after a colon, for example
\fBCannot connect to "unix:/run/ovn/ovnsb_db.sock": connection refused\fR.
With \fB\-\-json\fR (or \fB\-\-format=json\fR) an error is one line of JSON on standard error,
and standard output stays for data, as \fBkubectl\fR and \fBetcdctl\fR keep it:
.PP
.RS 4
.nf
{"error":{"message":"Unknown column \e"x\e": ...","exitCode":2,"kind":"usage"}}
.fi
.RE
.PP
where \fBkind\fR names the exit status: \fBfailed\fR, \fBusage\fR, \fBdifferences\fR, \fBauth\fR,
\fBtimeout\fR or \fBinterrupted\fR.
.PP
A command that asks for confirmation does so only when standard input, output and error are terminals;
otherwise it needs \fB\-\-yes\fR and exits with status 2 without it.
.PP
Every wait has a \fB\-\-timeout\fR with a default: a number of seconds, or a number with a unit
(\fB500ms\fR, \fB5s\fR, \fB2m\fR, \fB1h\fR), at most ${durationMsMax / 3_600_000} hours.
When it expires the command exits with status 5.`
}

/** DAEMONS: log format, pidfile, detach, signals (ovnctl(1) only). */
export function daemonSection(): string {
  return String.raw`.SH DAEMONS
Commands that serve (\fBdb\-serve\fR, \fBcontroller\-run\fR) log one event per line on standard error, or
to the file named by \fB\-\-log\-file\fR, in the layout of Open vSwitch log files:
.PP
.RS 4
.nf
2026\-11\-24T09:00:00.000Z|00001|raft|INFO|became leader of term 3
.fi
.RE
.PP
that is, the UTC time with milliseconds, a sequence number, the module, the level
(\fBEMER\fR, \fBERR\fR, \fBWARN\fR, \fBINFO\fR or \fBDBG\fR) and the message, separated by \fB|\fR.
\fB\-\-verbose\fR adds \fBDBG\fR lines.
The log file is reopened on \fBSIGHUP\fR, for log rotation.
.PP
\fB\-\-pidfile=\fIFILE\fR writes the process id to \fIFILE\fR once the daemon listens and removes it on exit;
the daemon refuses to start if \fIFILE\fR names a running process.
\fB\-\-detach\fR starts the daemon in the background and returns once it is ready (exit status 0), or
with the daemon's own exit status if it fails to start; the detached daemon logs only to \fB\-\-log\-file\fR.
.PP
\fBSIGTERM\fR stops a daemon cleanly (exit status 0); \fBSIGINT\fR does the same with exit status 130.
Stopping steps that take longer than ${shutdownGraceMs / 1000} seconds are abandoned.`
}

/** ENVIRONMENT: variables every command honours. */
export function environmentSection(): string {
  return String.raw`.SH ENVIRONMENT
.TP
.B NO_COLOR
When set to a non\-empty value, no colour is used (https://no\-color.org).
.TP
.B TERM
When \fBdumb\fR, no colour is used.
.TP
.B OVNCTL_DEBUG
When set, unexpected errors are printed with their stack trace.`
}

/** FILES: what ovnctl reads or writes outside the paths given on the command line. */
export function filesSection(): string {
  return String.raw`.SH FILES
ovnctl reads no configuration file; daemons write only the files named by \fB\-\-pidfile\fR and
\fB\-\-log\-file\fR and the databases they serve.
.TP
.I /etc/bash_completion.d/ovnctl
A usual place for the script printed by \fBovnctl completion bash\fR.
.TP
.I $fpath/_ovnctl
A usual place for the script printed by \fBovnctl completion zsh\fR.`
}

/** DIFFERENCE DIGESTS: the monitor_cond_digest extension (db-serve and digest-sync pages). */
export function digestProtocolSection(): string {
  return String.raw`.SH "DIFFERENCE DIGESTS"
Besides the methods of
.BR ovsdb\-server (7),
\fBdb\-serve\fR answers \fBmonitor_cond_digest\fR, with which a client that already holds rows of a monitored
set of tables, columns and condition brings them up to date without receiving the rows that did not change, even
when the server has no history for it (after a restart, or with \fB\-\-history\-txns=0\fR).
It follows the idea of difference digests (Eppstein, Goodrich, Uyeda and Varghese, SIGCOMM 2011):
both sides keep a keyed 64\-bit digest of each row (its table, UUID and monitored columns), the server up to date
at every commit; the client sends a small strata estimator of its digests, the server answers with an invertible
Bloom lookup table sized from it, and the client peels the difference and asks for the rows it lacks.
.PP
The request is
.PP
.RS 4
.nf
"method": "monitor_cond_digest"
"params": [<db\-name>, <json\-value>, <monitor\-cond\-requests>, <last\-txn\-id>, <digest\-message>]
.fi
.RE
.PP
as for \fBmonitor_cond_since\fR, plus a \fI<digest\-message>\fR: an object whose \fBtype\fR is \fBestimate\fR
(with \fBsalt\-id\fR, \fBsub\-cells\-max\fR and \fBdata\fR), \fBgrow\fR (\fBsalt\-id\fR, \fBsub\-cells\fR),
\fBrequest\fR or \fBdecode\fR (\fBsalt\-id\fR, \fBgeneration\fR, \fBdata\fR) or \fBsnapshot\fR; \fBdata\fR is base64.
The client sends the request once per round, each time complete, so the server keeps no state between rounds.
The result is an object whose \fBoutcome\fR is one of:
.TP
.B table
An IBLT (\fBdata\fR) and the \fBgeneration\fR it describes; no monitor is started yet. The client peels it and sends
\fBrequest\fR with the digests it lacks; when peeling fails it sends \fBdecode\fR with its own table, three
times the size, which the server peels: the last round then ends in \fBrows\fR all the same (a server table twice
that size comes back if that fails too). \fBgrow\fR asks again for a table of a given size (after damage).
.TP
.B salt
The client's digests were made under another salt: \fBsalt\fR (base64) and \fBsalt\-id\fR are the server's; the
client digests its rows again and starts over. No monitor is started.
.TP
.BR history ", " in\-sync ", " rows ", " snapshot
The last round: \fBupdates\fR holds \fI<table\-updates2>\fR (for \fBhistory\fR the commits since
\fI<last\-txn\-id>\fR, for \fBrows\fR the rows the client lacks as \fBinsert\fR and rows removed during the exchange
as \fBdelete\fR, for \fBsnapshot\fR every row as \fBinitial\fR), with \fBlast\-txn\-id\fR, \fBsalt\fR and
\fBsalt\-id\fR; after \fBdecode\fR, \fBdeletes\fR (base64) lists the digests of the rows only the client holds;
after \fBin\-sync\fR and \fBrows\fR, \fBcheck\fR is the sum of the rows' content checks the client must now hold
(below). The monitor \fI<json\-value>\fR then runs as one started by \fBmonitor_cond_since\fR: later commits
arrive as \fBupdate3\fR notifications, none missed. \fBrefused\fR, when present, says why the client's digests were
not used.
.PP
A message of the wrong size, for another schema, condition or salt, or damaged in transit (each carries a
checksum) is refused: a malformed \fI<digest\-message>\fR is a \fBsyntax error\fR naming the field; a damaged
estimate ends in a \fBsnapshot\fR whose \fBrefused\fR says why; a table that does not peel, or whose result does
not match the server's set summary, makes the client send a larger one of its own, and after three tables ask
for a snapshot.
A replica is never changed from a table that was not verified.
Clients that do not know the method, such as the OVS IDLs, are not affected.
.PP
Row digests are SipHash\-2\-4 under a salt derived from the server's digest key and the database name
(\fB\-\-digest\-key\-file\fR keeps the key across restarts). Clients must know the salt to digest their rows, so a
client that has reconciled once knows it: the salt keeps rows written by anyone else from being chosen to collide,
and the server sends a snapshot while two of its rows share a digest. A writer that also reconciles could, with
about 2^32 SipHash evaluations, make an old and a new version of a row it writes share a 64\-bit digest; so every
row also has a content check, a second SipHash under a key derived from the first, and both sides keep the sum of
the checks of their rows. A client whose sum differs from the server's \fBcheck\fR after reconciling cancels the
monitor and takes a snapshot: hiding a change then takes a collision of both digests at once (about 2^64
evaluations for one row).`
}
