#!/usr/bin/env bash
# bench/table.sh RESULTS.json: the markdown tables of one bench/run result.
set -euo pipefail
f=${1:?results json}

jq -r '
def num: if . == null then "n/a" elif . >= 100 then (. | round | tostring)
         elif . >= 10 then ((. * 10 | round) / 10 | tostring) else ((. * 1000 | round) / 1000 | tostring) end;
def cell($lb; $metric):
  .summary[$lb] as $l
  | if $l == null then "not run"
    elif ($l[$metric] // null) == null or $l[$metric].n == 0 then
      "invalid (\($l.valid_runs)/\($l.runs) runs valid)"
    else "\($l[$metric].median | num) (\($l[$metric].min | num)–\($l[$metric].max | num))"
         + (if $l.valid_runs < $l.runs then " [\($l.runs - $l.valid_runs) run(s) invalid]" else "" end)
    end;
. as $r
| "## iotxmpp benchmark \(.date) (commit \(.commit))",
  "",
  "Machine: \(.machine.cpu), \(.machine.cores) cores, \(.machine.memory) RAM, \(.machine.kernel); load average at the end \(.machine.load_at_end).",
  "Generator and servers share the machine. Each cell: median (min–max) of \(.settings.runs) run(s)\(if .settings.quick then ", QUICK smoke run (small counts)" else "" end).",
  (if (.sections.plain | if . == null then true else . end) then
  "Ingest: \(.settings.ingest_conns) connections × \(.settings.ingest_reports_per_conn) status reports of \(.settings.report_bytes) bytes, the same bytes as MQTT payload (Prosody: × \(.settings.prosody_reports_per_conn), \(.settings.prosody_report_bytes) bytes with the user JID as `to`); logins: \(.settings.logins); idle: \(.settings.idle_sessions) sessions.",
  "",
  "| scenario | iotxmpp SQLite file | iotxmpp SQLite tmpfs | iotxmpp MariaDB | peer |",
  "|---|---|---|---|---|",
  "| durable ingest, reports/s | \(cell("iotxmpp-sqlite-file ingest"; "reports_per_s")) | \(cell("iotxmpp-sqlite-shm ingest"; "reports_per_s")) | \(cell("iotxmpp-mariadb ingest"; "reports_per_s")) | Mosquitto QoS 1: \(cell("mosquitto qos1 ingest"; "reports_per_s")); QoS 0: \(cell("mosquitto qos0 ingest"; "reports_per_s")); Prosody: \(cell("prosody ingest"; "reports_per_s")) |",
  "| raw multi-row INSERT, rows/s | \(cell("raw-insert sqlite-file"; "rows_per_s")) | \(cell("raw-insert sqlite-shm"; "rows_per_s")) | \(cell("raw-insert mariadb"; "rows_per_s")) | |",
  "| generator CPU share during ingest (of one core) | \(cell("iotxmpp-sqlite-file ingest"; "generator_cpu_share")) | \(cell("iotxmpp-sqlite-shm ingest"; "generator_cpu_share")) | \(cell("iotxmpp-mariadb ingest"; "generator_cpu_share")) | Mosquitto QoS 1: \(cell("mosquitto qos1 ingest"; "generator_cpu_share")) |",
  "| recommend RTT idle p50 / p99 / max, ms | \(cell("iotxmpp-sqlite-file recommend idle"; "recommend_p50_ms")) / \(cell("iotxmpp-sqlite-file recommend idle"; "recommend_p99_ms")) / \(cell("iotxmpp-sqlite-file recommend idle"; "recommend_max_ms")) | \(cell("iotxmpp-sqlite-shm recommend idle"; "recommend_p99_ms")) (p99) | \(cell("iotxmpp-mariadb recommend idle"; "recommend_p99_ms")) (p99) | |",
  "| recommend RTT during ingest p50 / p99 / max, ms | \(cell("iotxmpp-sqlite-file ingest"; "recommend_p50_ms")) / \(cell("iotxmpp-sqlite-file ingest"; "recommend_p99_ms")) / \(cell("iotxmpp-sqlite-file ingest"; "recommend_max_ms")) | \(cell("iotxmpp-sqlite-shm ingest"; "recommend_p99_ms")) (p99) | \(cell("iotxmpp-mariadb ingest"; "recommend_p99_ms")) (p99) | |",
  "| full logins/s | \(cell("iotxmpp-sqlite-file logins"; "logins_per_s")) | \(cell("iotxmpp-sqlite-shm logins"; "logins_per_s")) | \(cell("iotxmpp-mariadb logins"; "logins_per_s")) | Mosquitto CONNECT: \(cell("mosquitto logins"; "logins_per_s")); Prosody: \(cell("prosody logins"; "logins_per_s")) |",
  "| server memory per idle session, bytes | \(cell("iotxmpp-sqlite-file idle"; "bytes_per_session")) | \(cell("iotxmpp-sqlite-shm idle"; "bytes_per_session")) | \(cell("iotxmpp-mariadb idle"; "bytes_per_session")) | Mosquitto: \(cell("mosquitto idle"; "bytes_per_session")); Prosody: \(cell("prosody idle"; "bytes_per_session")) |",
  "",
  "Framer alone (stream_framer_bench): " + ([.framer[] | "\(.name): \(.mb_per_s | num) MB/s, \(.stanzas_per_s | num) stanzas/s"] | join("; "))
  else empty end),
  (if (.sections.tls // false) then
  "",
  "TLS (issue 12): ingest \(.settings.ingest_conns) connections × \(.settings.ingest_reports_per_conn) reports; logins: \(.settings.logins); idle: \(.settings.idle_sessions) sessions. iotxmpp \(.settings.tls.iotxmpp), SQLite file; Mosquitto \(.settings.tls.mosquitto). Certificate \(.settings.tls.certificate); a full handshake per connection. \(.settings.tls.accounts) accounts provisioned.",
  "",
  "| scenario (TLS) | iotxmpp | Mosquitto with TLS | iotxmpp / Mosquitto |",
  "|---|---|---|---|",
  "| server memory per idle TLS session, bytes (\(.settings.idle_sessions) sessions) | \(cell("iotxmpp-tls idle"; "bytes_per_session")) | \(cell("mosquitto-tls idle"; "bytes_per_session")) | \(.tls_ratios.bytes_per_idle_session | num) |",
  "| logins/s (TCP, TLS, SASL, bind / TCP, TLS, CONNECT) | \(cell("iotxmpp-tls logins"; "logins_per_s")) | \(cell("mosquitto-tls logins"; "logins_per_s")) | \(.tls_ratios.logins_per_s | num) |",
  "| logins/s over STARTTLS (stream, STARTTLS, TLS, stream, SASL, bind) | \(cell("iotxmpp-starttls logins"; "logins_per_s")) | | \(.tls_ratios.starttls_logins_per_s | num) |",
  "| server CPU per login, ms (lower is better) | \(cell("iotxmpp-tls logins"; "server_cpu_ms_per_login")) (STARTTLS: \(cell("iotxmpp-starttls logins"; "server_cpu_ms_per_login"))) | \(cell("mosquitto-tls logins"; "server_cpu_ms_per_login")) | \(.tls_ratios.server_cpu_per_login | num) |",
  "| login latency p99, ms | \(cell("iotxmpp-tls logins"; "login_p99_ms")) | \(cell("mosquitto-tls logins"; "login_p99_ms")) | |",
  "| durable ingest over TLS, reports/s (Mosquitto: QoS 1) | \(cell("iotxmpp-tls ingest"; "reports_per_s")) | \(cell("mosquitto-tls qos1 ingest"; "reports_per_s")) | \(.tls_ratios.ingest_reports_per_s | num) |",
  "| server CPU per report, µs (lower is better; iotxmpp: with its store writer) | \(cell("iotxmpp-tls ingest"; "server_cpu_us_per_report")) | \(cell("mosquitto-tls qos1 ingest"; "server_cpu_us_per_report")) | \(.tls_ratios.server_cpu_per_report | num) |",
  "| generator CPU share: logins / ingest (of one core) | \(cell("iotxmpp-tls logins"; "generator_cpu_share")) / \(cell("iotxmpp-tls ingest"; "generator_cpu_share")) | \(cell("mosquitto-tls logins"; "generator_cpu_share")) / \(cell("mosquitto-tls qos1 ingest"; "generator_cpu_share")) | |"
  else empty end),
  (if (.sections.sm // false) then
  "",
  "XEP-0198 (issue 13). Ingest: \(.settings.ingest_conns) connections × \(.settings.ingest_reports_per_conn) status reports a run, each connection ending either with a ping (answered once everything before it is committed) or with <enable/> first and <r/> last (the <a h/> counts a report only once committed); \(.settings.sm.ingest_order); rows counted. Resumption: \(.settings.sm.resume_sessions) streams; \(.settings.sm.resume). Sessions: \(.settings.sm.detached_sessions) per mode; \(.settings.sm.sessions).",
  "",
  "| durable ingest, reports/s | ping barrier | XEP-0198 acks | SM / ping (medians) | SM / ping per repetition (which ran first) | server CPU per report, µs: ping / SM (SM / ping) |",
  "|---|---|---|---|---|---|",
  (.sm.ingest[] | . as $g | $r |
   "| \(if $g.store == "mariadb" then "MariaDB" else "SQLite file" end) | \(cell($g.ping_label; "reports_per_s")) | \(cell($g.sm_label; "reports_per_s")) | \($g.ratio | num) | "
   + "median \($g.paired_ratio_median | num): "
   + ([$g.pairs[] | "\(.ratio | num) (\(if .first == "sm" then "SM" else .first // "?" end) first)"] | join(", "))
   + " | \(cell($g.ping_label; "server_cpu_us_per_report")) / \(cell($g.sm_label; "server_cpu_us_per_report")) (\($g.server_cpu_ratio | num)) |"),
  "",
  "| resumption (SQLite file) | XEP-0198 resume | full login + bind | resume / login |",
  "|---|---|---|---|",
  "| per second (connect, stream, SASL ANONYMOUS, restart, then <resume/> or bind) | \(cell("iotxmpp-sqlite-file sm resume"; "resumes_per_s")) | \(cell("iotxmpp-sqlite-file sm logins"; "logins_per_s")) | \(.sm.resume.ratio_to_logins | num) |",
  "| latency p99, ms (connect to <resumed/> / bound) | \(cell("iotxmpp-sqlite-file sm resume"; "resume_p99_ms")) | \(cell("iotxmpp-sqlite-file sm logins"; "login_p99_ms")) | |",
  "| server CPU per resume / login, ms | \(cell("iotxmpp-sqlite-file sm resume"; "server_cpu_ms_per_resume")) | \(cell("iotxmpp-sqlite-file sm logins"; "server_cpu_ms_per_login")) | \(.sm.resume.server_cpu_ratio_to_logins | num) |",
  "| answers over all runs | \(.sm.resume.resumed) <resumed/> of \(.sm.resume.attempted), \(.sm.resume.failed) <failed/>, \(.sm.resume.wrong_answer) wrong previd or h | | |",
  "",
  "| server memory per session (SQLite file, \(.settings.sm.detached_sessions) sessions) | bytes | KiB | / plain |",
  "|---|---|---|---|",
  ([["plain", "plain: bound, idle", null], ["live-sm", "live SM: bound, resumption enabled, connected", .sm.sessions.live_sm_over_plain],
    ["detached", "detached: resumable, connection lost, waiting for <resume/>", .sm.sessions.detached_over_plain]][]
   | . as [$m, $what, $ratio] | $r
   | "| \($what) | \(cell("iotxmpp-sqlite-file sessions \($m)"; "bytes_per_session")) | \(.summary["iotxmpp-sqlite-file sessions \($m)"].bytes_per_session.median // null | if . == null then "n/a" else . / 1024 | num end) | \(if $ratio == null then "" else ($ratio | num) end) |")
  else empty end),
  "",
  "| target | goal | measured | met |",
  "|---|---|---|---|",
  (.targets[] | "| \(.target) | \(.goal) | \(.value | num) | \(if .met == null then "n/a" elif .met then "yes" else "**no**" end) |"),
  "",
  (if (.invalid | length) > 0 then
     "Runs not reported (an error, or rows that do not add up):",
     (.invalid[] | "- \(.["label"]) run \(.run): \(.error // "")\(if .rows_added != null then " rows added \(.rows_added) of \(.reports)" else "" end)")
   else empty end)
' "$f"
