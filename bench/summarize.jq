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
{
  date: $date, commit: $commit,
  machine: {cpu: $cpu, cores: ($cores | tonumber), memory: $mem, kernel: $kernel, load_at_end: $load},
  sections: {plain: ($run_plain == 1), tls: ($run_tls == 1)},
  settings: {runs: $runs, quick: ($quick == 1), ingest_conns: $conns, ingest_reports_per_conn: $reports,
             logins: $logins, idle_sessions: $idle, prosody_reports_per_conn: $preports,
             tls: {accounts: $tls_accounts, certificate: "ECDSA P-256, verified against the CA by the generator",
                   iotxmpp: "direct TLS (XEP-0368), SASL \([$raw[] | select(.["label"] == "iotxmpp-tls logins") | .sasl] | first // "n/a"), bind",
                   mosquitto: "TLS listener, CONNECT \([$raw[] | select(.["label"] == "mosquitto-tls logins") | .auth] | first // "n/a")"},
             report_bytes: ([$raw[] | select(.scenario == "ingest" and .proto == "xmpp") | .report_bytes] | min),
             prosody_report_bytes: ([$raw[] | select(.["label"] == "prosody ingest") | .report_bytes] | max)},
  summary: $s,
  framer: [($framer[0].benchmarks // [])[] | {name, mb_per_s: (.bytes_per_second / 1e6),
                                              stanzas_per_s: .items_per_second}],
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
  ] | map(. + {section: "tls"}))
  | map(select(if .section == "tls" then $run_tls == 1 else $run_plain == 1 end))
  | map(. + {met: (if .value == null then null elif .lower_is_better then .value <= .goal
                     else .value >= .goal end)})),
  raw: $raw
}
