# bench/run's results: the raw records (one per scenario run, slurped) into
# medians with min-max over the valid runs, the ratios against the peers and
# the issue's targets. Arguments come from bench/run (jq --arg/--argjson).

def stats: sort | {median: (if length == 0 then null elif length % 2 == 1 then .[length / 2 | floor]
                            else (.[length / 2 - 1] + .[length / 2]) / 2 end),
                   min: (if length == 0 then null else min end),
                   max: (if length == 0 then null else max end), n: length};

# The figures each kind of record contributes.
def metrics:
  if (.["label"] | test("raw-insert")) then {rows_per_s: .best_rows_per_s}
  elif (.["label"] | test("ingest$")) then
    {reports_per_s, generator_cpu_share}
    + (if .server_cpu_us_per_report then {server_cpu_us_per_report} else {} end)
    + (if .recommend then {recommend_p50_ms: .recommend.p50_ms, recommend_p99_ms: .recommend.p99_ms,
                           recommend_max_ms: .recommend.max_ms} else {} end)
  elif (.["label"] | test("logins$")) then {logins_per_s, login_p99_ms: .latency.p99_ms, generator_cpu_share}
    + (if .server_cpu_ms_per_login then {server_cpu_ms_per_login} else {} end)
  elif (.["label"] | test(" resume$")) then {resumes_per_s, resume_p99_ms: .latency.p99_ms, generator_cpu_share}
    + (if .server_cpu_ms_per_resume then {server_cpu_ms_per_resume} else {} end)
  elif .scenario == "detached" then {bytes_per_session}
  elif (.["label"] | test("idle$")) and .scenario == "idle" then {bytes_per_session}
  elif (.["label"] | test("recommend idle$")) then
    {recommend_p50_ms: .recommend.p50_ms, recommend_p99_ms: .recommend.p99_ms, recommend_max_ms: .recommend.max_ms}
  else {} end;

def ratio($a; $b): if $a == null or $b == null or $b == 0 then null else $a / $b end;

. as $raw
| ($raw | group_by(.["label"]) | map({key: .[0]["label"], value: (
    map(select(.valid)) as $ok
    | (map(metrics | keys[]) | unique) as $keys
    | ($keys | map(. as $k | {key: $k, value: ([$ok[] | metrics | .[$k] // empty] | stats)}) | from_entries)
      + {runs: length, valid_runs: ($ok | length)}
  )}) | from_entries) as $s
| def med($lbl; $metric): $s[$lbl][$metric].median;
# XEP-0198 (--only sm): per store the SM / ping ratio of the medians and
# each repetition's pair (which ran first, both rates, their ratio).
([("sqlite-file", "mariadb") as $st
  | "iotxmpp-\($st) ping ingest" as $pl | "iotxmpp-\($st) sm ingest" as $sl
  | select($s[$pl] != null or $s[$sl] != null)
  | {store: $st,
     ping_label: $pl, sm_label: $sl,
     ratio: ratio(med($sl; "reports_per_s"); med($pl; "reports_per_s")),
     server_cpu_ratio: ratio(med($sl; "server_cpu_us_per_report"); med($pl; "server_cpu_us_per_report")),
     pairs: [[$raw[] | select(.["label"] == $pl or .["label"] == $sl)] | group_by(.run)[]
             | ([.[] | select(.["label"] == $pl)][0]) as $p | ([.[] | select(.["label"] == $sl)][0]) as $m
             | {run: .[0].run,
                first: (if ($p.position // 0) == 1 then "ping" elif ($m.position // 0) == 1 then "sm" else null end),
                ping: $p.reports_per_s, sm: $m.reports_per_s,
                valid: (($p.valid // false) and ($m.valid // false))}
             | .ratio = (if .valid then ratio(.sm; .ping) else null end)]}
  | .paired_ratio_median = ([.pairs[] | .ratio | numbers] | stats | .median)]) as $sm_ingest
| def sm_ratio($st): [$sm_ingest[] | select(.store == $st) | .ratio][0];
def sum_of($lbl; $f): [$raw[] | select(.["label"] == $lbl) | .[$f] | numbers] | add // 0;
{
  date: $date, commit: $commit,
  machine: {cpu: $cpu, cores: ($cores | tonumber), memory: $mem, kernel: $kernel, load_at_end: $load},
  sections: {plain: ($run_plain == 1), tls: ($run_tls == 1), sm: ($run_sm == 1)},
  settings: {runs: $runs, quick: ($quick == 1), ingest_conns: $conns, ingest_reports_per_conn: $reports,
             logins: $logins, idle_sessions: $idle, prosody_reports_per_conn: $preports,
             tls: {accounts: $tls_accounts, certificate: "ECDSA P-256, verified against the CA by the generator",
                   iotxmpp: "direct TLS (XEP-0368), SASL \([$raw[] | select(.["label"] == "iotxmpp-tls logins") | .sasl] | first // "n/a"), bind",
                   mosquitto: "TLS listener, CONNECT \([$raw[] | select(.["label"] == "mosquitto-tls logins") | .auth] | first // "n/a")"},
             report_bytes: ([$raw[] | select(.scenario == "ingest" and .proto == "xmpp") | .report_bytes] | min),
             prosody_report_bytes: ([$raw[] | select(.["label"] == "prosody ingest") | .report_bytes] | max),
             sm: {resume_sessions: $sm_sessions, detached_sessions: $sm_detached,
                  ingest_order: "ping first in odd repetitions, SM first in even; one server per store",
                  resume: "N anonymous streams bind and <enable resume='true'/>, every connection reset, N new connections log in (SASL ANONYMOUS) and <resume previd h='0'/>; 200 in flight, 8 source addresses; timed from the first new connect to the last <resumed/>; beside `logins` of N sessions on the same server, alternating",
                  sessions: "bench/detached_sessions.py: RSS growth / N sessions, one after the other, 2 s of settling; a fresh server and database per mode and run"}},
  summary: $s,
  framer: [($framer[0].benchmarks // [])[] | {name, mb_per_s: (.bytes_per_second / 1e6),
                                              stanzas_per_s: .items_per_second}],
  sm: (if $run_sm == 1 then {
    ingest: $sm_ingest,
    resume: {ratio_to_logins: ratio(med("iotxmpp-sqlite-file sm resume"; "resumes_per_s");
                                    med("iotxmpp-sqlite-file sm logins"; "logins_per_s")),
             server_cpu_ratio_to_logins: ratio(med("iotxmpp-sqlite-file sm resume"; "server_cpu_ms_per_resume");
                                               med("iotxmpp-sqlite-file sm logins"; "server_cpu_ms_per_login")),
             attempted: sum_of("iotxmpp-sqlite-file sm resume"; "sessions"),
             resumed: sum_of("iotxmpp-sqlite-file sm resume"; "resumed"),
             failed: sum_of("iotxmpp-sqlite-file sm resume"; "failed"),
             wrong_answer: sum_of("iotxmpp-sqlite-file sm resume"; "wrong_answer")},
    sessions: {live_sm_over_plain: ratio(med("iotxmpp-sqlite-file sessions live-sm"; "bytes_per_session");
                                         med("iotxmpp-sqlite-file sessions plain"; "bytes_per_session")),
               detached_over_plain: ratio(med("iotxmpp-sqlite-file sessions detached"; "bytes_per_session");
                                          med("iotxmpp-sqlite-file sessions plain"; "bytes_per_session"))}
  } else null end),
  invalid: [$raw[] | select(.valid | not)
            | {"label": .["label"], run, error, rows_added, reports}],
  tls_ratios: {
    bytes_per_idle_session: ratio(med("iotxmpp-tls idle"; "bytes_per_session"); med("mosquitto-tls idle"; "bytes_per_session")),
    logins_per_s: ratio(med("iotxmpp-tls logins"; "logins_per_s"); med("mosquitto-tls logins"; "logins_per_s")),
    starttls_logins_per_s: ratio(med("iotxmpp-starttls logins"; "logins_per_s"); med("mosquitto-tls logins"; "logins_per_s")),
    ingest_reports_per_s: ratio(med("iotxmpp-tls ingest"; "reports_per_s"); med("mosquitto-tls qos1 ingest"; "reports_per_s")),
    server_cpu_per_login: ratio(med("iotxmpp-tls logins"; "server_cpu_ms_per_login"); med("mosquitto-tls logins"; "server_cpu_ms_per_login")),
    server_cpu_per_report: ratio(med("iotxmpp-tls ingest"; "server_cpu_us_per_report"); med("mosquitto-tls qos1 ingest"; "server_cpu_us_per_report"))},
  targets: (([
    {target: "durable ingest into SQLite >= 1.1 x Mosquitto QoS 1", goal: 1.1,
     value: ratio(med("iotxmpp-sqlite-file ingest"; "reports_per_s"); med("mosquitto qos1 ingest"; "reports_per_s"))},
    {target: "durable ingest into MariaDB >= 0.8 x raw multi-row INSERT", goal: 0.8,
     value: ratio(med("iotxmpp-mariadb ingest"; "reports_per_s"); med("raw-insert mariadb"; "rows_per_s"))},
    {target: "<= 1 KiB per idle bound session at 10,000 sessions", goal: 1024, lower_is_better: true,
     value: med("iotxmpp-sqlite-file idle"; "bytes_per_session")},
    {target: ">= 10,000 full logins per second", goal: 10000,
     value: med("iotxmpp-sqlite-file logins"; "logins_per_s")},
    {target: "recommend p99 <= 2 ms during ingest (SQLite file)", goal: 2, lower_is_better: true,
     value: med("iotxmpp-sqlite-file ingest"; "recommend_p99_ms")}
  ] | map(. + {section: "plain"})) + ([
    {target: "<= 4 KiB per idle TLS session at \($idle) sessions (issue 12)", goal: 4096, lower_is_better: true,
     value: med("iotxmpp-tls idle"; "bytes_per_session")},
    {target: "TLS+SCRAM logins/s >= Mosquitto TLS CONNECT/s (ratio)", goal: 1,
     value: ratio(med("iotxmpp-tls logins"; "logins_per_s"); med("mosquitto-tls logins"; "logins_per_s"))},
    {target: "durable ingest over TLS (SQLite file) >= 1.3 x Mosquitto QoS 1 over TLS", goal: 1.3,
     value: ratio(med("iotxmpp-tls ingest"; "reports_per_s"); med("mosquitto-tls qos1 ingest"; "reports_per_s"))}
  ] | map(. + {section: "tls"})) + ([
    {target: "XEP-0198 acks: durable ingest >= 0.95 x the ping barrier, SQLite file (overhead <= 5 %, issue 13)",
     goal: 0.95, value: sm_ratio("sqlite-file")},
    {target: "XEP-0198 acks: durable ingest >= 0.95 x the ping barrier, MariaDB (overhead <= 5 %, issue 13)",
     goal: 0.95, value: sm_ratio("mariadb")}
  ] | map(. + {section: "sm"}))
  | map(select(if .section == "tls" then $run_tls == 1 elif .section == "sm" then $run_sm == 1
               else $run_plain == 1 end))
  | map(. + {met: (if .value == null then null elif .lower_is_better then .value <= .goal
                     else .value >= .goal end)})),
  raw: $raw
}
