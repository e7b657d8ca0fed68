# fish completion for iotxmpp, installed as
# share/fish/vendor_completions.d/iotxmpp.fish. The option lists mirror
# `iotxmpp SUB --help` (checked by tests/cli/completion_test.cpp).

set -l subcommands serve db-init reap device simulate send query tail
set -l query_actions recommend ping devices info version
set -l send_kinds status presence raw
set -l device_actions add list show passwd grant revoke disable enable remove

# Rooms of the devices online now (`query devices --json`), from a server
# that answers within a second; nothing otherwise, and silently. The
# connection flags on the command line are passed on.
function __iotxmpp_rooms
    set -l tokens (commandline -opc)
    set -l args
    set -l i 2
    while test $i -le (count $tokens)
        switch $tokens[$i]
            case --server --domain --user --password-file --tls-ca --config
                if test $i -lt (count $tokens)
                    set -a args $tokens[$i] $tokens[(math $i + 1)]
                end
                set i (math $i + 1)
            case '--server=*' '--domain=*' '--user=*' '--password-file=*' '--tls-ca=*' \
                '--config=*' --tls --tls-insecure
                set -a args $tokens[$i]
        end
        set i (math $i + 1)
    end
    timeout 2 iotxmpp query devices --json --timeout 1s $args 2>/dev/null \
        | string match -ar '"room": *"[^"]*"' | string replace -r '.*"([^"]*)"$' '$1' \
        | string match -rv '^$' | sort -u
end

# True when the command line has subcommand $argv[1] and, when given, action $argv[2].
function __iotxmpp_in
    set -l tokens (commandline -opc)
    contains -- $argv[1] $tokens; or return 1
    test (count $argv) -lt 2; and return 0
    contains -- $argv[2] $tokens
end

complete -c iotxmpp -f
complete -c iotxmpp -n __fish_use_subcommand -s h -l help -d 'Print help and exit'
complete -c iotxmpp -n __fish_use_subcommand -s V -l version -d 'Print the version and exit'
complete -c iotxmpp -l config -r -F -d 'TOML configuration file'
complete -c iotxmpp -l print-config -d 'Print the effective options and exit'

complete -c iotxmpp -n __fish_use_subcommand -a serve -d 'Run the XMPP telemetry server'
complete -c iotxmpp -n __fish_use_subcommand -a db-init -d 'Create or migrate the database schema'
complete -c iotxmpp -n __fish_use_subcommand -a reap -d 'Remove devices not heard from for a while'
complete -c iotxmpp -n __fish_use_subcommand -a device -d 'Add, list, change and remove device accounts'
complete -c iotxmpp -n __fish_use_subcommand -a simulate -d 'Simulate room devices'
complete -c iotxmpp -n __fish_use_subcommand -a send -d 'Send a status report, presence or raw stanzas'
complete -c iotxmpp -n __fish_use_subcommand -a query -d 'Ask the server one thing'
complete -c iotxmpp -n __fish_use_subcommand -a tail -d 'Follow the live feed'

# --db: the two schemes, then files after sqlite:
set -l db_values '(string match -q "sqlite:*" -- (commandline -ct); and printf "sqlite:%s\n" (__fish_complete_path (string replace sqlite: "" -- (commandline -ct))); or printf "%s\n" sqlite: mysql://)'
for sub in serve db-init reap device
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l db -x -a $db_values -d 'Database URL'
end

# serve
complete -c iotxmpp -n '__iotxmpp_in serve' -l log-level -x -a 'debug info warn error off' -d 'Log level'
complete -c iotxmpp -n '__iotxmpp_in serve' -l log-format -x -a 'text json' -d 'Log format'
complete -c iotxmpp -n '__iotxmpp_in serve' -s l -l listen -x -d 'Address to listen on'
complete -c iotxmpp -n '__iotxmpp_in serve' -l domain -x -d 'XMPP domain'
complete -c iotxmpp -n '__iotxmpp_in serve' -l threads -x -d 'I/O threads (0: one per core, less one for the store writer)'
complete -c iotxmpp -n '__iotxmpp_in serve' -l rules -r -F -d 'Recommendation rules (JSON)'
complete -c iotxmpp -n '__iotxmpp_in serve' -l stale-after -x -d 'Reap devices silent for this long'
complete -c iotxmpp -n '__iotxmpp_in serve' -l reap-every -x -d 'How often the reaper runs'
complete -c iotxmpp -n '__iotxmpp_in serve' -l idle-timeout -x -d 'Close silent sessions after'
complete -c iotxmpp -n '__iotxmpp_in serve' -l negotiation-timeout -x -d 'Close unbound connections after'
complete -c iotxmpp -n '__iotxmpp_in serve' -l max-stanza-bytes -x -d 'Largest element accepted'
complete -c iotxmpp -n '__iotxmpp_in serve' -l max-depth -x -d 'Deepest nesting accepted'
complete -c iotxmpp -n '__iotxmpp_in serve' -l max-negotiating -x -d 'Negotiating connections per address'
complete -c iotxmpp -n '__iotxmpp_in serve' -l queue -x -d 'Store writer queue capacity'
complete -c iotxmpp -n '__iotxmpp_in serve' -l tls-cert -r -F -d 'TLS certificate chain (PEM)'
complete -c iotxmpp -n '__iotxmpp_in serve' -l tls-key -r -F -d 'TLS private key (PEM)'
complete -c iotxmpp -n '__iotxmpp_in serve' -l listen-tls -x -d 'Direct-TLS address HOST:PORT'
complete -c iotxmpp -n '__iotxmpp_in serve' -l tls-optional -d 'Offer STARTTLS without requiring it'
complete -c iotxmpp -n '__iotxmpp_in serve' -l anonymous -x -a 'yes no' -d 'Offer SASL ANONYMOUS'
complete -c iotxmpp -n '__iotxmpp_in serve' -l allow-plaintext-auth -d 'Offer PLAIN without TLS'
complete -c iotxmpp -n '__iotxmpp_in serve' -l max-stanza-rate -x -d 'Stanzas per second per session'
complete -c iotxmpp -n '__iotxmpp_in serve' -l max-byte-rate -x -d 'Bytes per second per session'
complete -c iotxmpp -n '__iotxmpp_in serve' -l rate-burst -x -d 'Seconds of burst'
complete -c iotxmpp -n '__iotxmpp_in serve' -l rate-grace -x -d 'Close a session slowed down this long'
complete -c iotxmpp -n '__iotxmpp_in serve' -l max-connect-rate -x -d 'New connections per second per address'
complete -c iotxmpp -n '__iotxmpp_in serve' -l resume-window -x -d 'How long a lost stream waits for resume'
complete -c iotxmpp -n '__iotxmpp_in serve' -l listen-proxy -x -d 'Address for connections with a PROXY header'
complete -c iotxmpp -n '__iotxmpp_in serve' -l listen-tls-proxy -x -d 'Direct-TLS address for connections with a PROXY header'
complete -c iotxmpp -n '__iotxmpp_in serve' -l trusted-proxy -x -d 'Load balancer network (CIDR) allowed on PROXY listeners'
complete -c iotxmpp -n '__iotxmpp_in serve' -l node-id -x -d 'This node'"'"'s name (default: the host name)'
complete -c iotxmpp -n '__iotxmpp_in serve' -l metrics -x -d 'Serve Prometheus metrics at HOST:PORT/metrics'

# db-init, reap
complete -c iotxmpp -n '__iotxmpp_in db-init' -l json -d 'Print JSON'
complete -c iotxmpp -n '__iotxmpp_in reap' -l stale-after -x -d 'Remove devices silent for this long'
complete -c iotxmpp -n '__iotxmpp_in reap' -l dry-run -d 'List without removing'
complete -c iotxmpp -n '__iotxmpp_in reap' -l json -d 'Print JSON'

# Client options: simulate, send, query, tail
for sub in simulate send query tail
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l server -x -d 'Server address HOST[:PORT]'
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l domain -x -d "The server's XMPP domain"
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l timeout -x -d 'Connect and reply timeout'
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l json -d 'Print JSON'
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l user -x -d 'Log in as this device account'
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l password-file -r -F -d 'File whose first line is the password'
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l tls -d 'TLS from the first byte (direct TLS)'
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l tls-ca -r -F -d 'CAs that sign the server certificate'
    complete -c iotxmpp -n "__iotxmpp_in $sub" -l tls-insecure -d 'Do not verify the server certificate'
end

# simulate
complete -c iotxmpp -n '__iotxmpp_in simulate' -s c -l count -x -d 'Number of devices'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l threads -x -d 'I/O threads'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l ramp -x -d 'New connections per second'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l interval -x -d 'Time between reports'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l jitter -x -d 'Random spread of each interval'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l query-every -x -d 'Time between recommendation queries'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l duration -x -d 'End the run after this long'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l reports -x -d 'End the run after this many reports'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l window -x -d 'Unacknowledged reports a device holds'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l drain-timeout -x -d 'Wait for outstanding acknowledgements at the end'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l seed -x -d 'Seed of the rooms'
complete -c iotxmpp -n '__iotxmpp_in simulate' -l user-pattern -x -d 'Account of device n, e.g. dev{n}'

# query
complete -c iotxmpp -n "__iotxmpp_in query; and not __fish_seen_subcommand_from $query_actions" -a "$query_actions"
complete -c iotxmpp -n '__iotxmpp_in query recommend' -s r -l room -x -a '(__iotxmpp_rooms)' -d 'Room to ask about'

# send
complete -c iotxmpp -n "__iotxmpp_in send; and not __fish_seen_subcommand_from $send_kinds" -a "$send_kinds"
complete -c iotxmpp -n '__iotxmpp_in send status' -s r -l room -x -a '(__iotxmpp_rooms)' -d 'Room (nodeId)'
complete -c iotxmpp -n '__iotxmpp_in send status' -l temperature -x -d 'Temperature in °C'
complete -c iotxmpp -n '__iotxmpp_in send status' -l humidity -x -d 'Relative humidity in %'
complete -c iotxmpp -n '__iotxmpp_in send status' -l brightness -x -d 'Brightness in lx'
complete -c iotxmpp -n '__iotxmpp_in send status' -l at -x -d 'Timestamp, XEP-0082 with offset'
complete -c iotxmpp -n '__iotxmpp_in send status' -l id -x -d 'Stanza id'
complete -c iotxmpp -n '__iotxmpp_in send presence' -l show -x -a 'away chat dnd xa' -d 'Availability detail'
complete -c iotxmpp -n '__iotxmpp_in send presence' -l status -x -d 'Free-text status'
complete -c iotxmpp -n '__iotxmpp_in send presence' -l unavailable -d 'Announce going offline'
complete -c iotxmpp -n '__iotxmpp_in send raw' -s l -l lines -d 'Read one stanza per line from stdin'

# tail
complete -c iotxmpp -n '__iotxmpp_in tail' -s r -l room -x -a '(__iotxmpp_rooms)' -d 'Only this room'
complete -c iotxmpp -n '__iotxmpp_in tail' -s n -l count -x -d 'Exit after this many events'

# device
complete -c iotxmpp -n "__iotxmpp_in device; and not __fish_seen_subcommand_from $device_actions" -a "$device_actions"
complete -c iotxmpp -n '__iotxmpp_in device add' -l room -x -a '(__iotxmpp_rooms)' -d 'Grant this room or prefix*'
complete -c iotxmpp -n '__iotxmpp_in device add' -l count -x -d 'Add PREFIX1..PREFIXN'
complete -c iotxmpp -n '__iotxmpp_in device add' -l prefix -x -d 'Name prefix of the --count devices'
complete -c iotxmpp -n '__iotxmpp_in device add' -l room-pattern -x -d 'Room of each --count device, {n} replaced'
for action in add passwd
    complete -c iotxmpp -n "__iotxmpp_in device $action" -l password-file -r -F -d 'Read the password from FILE'
    complete -c iotxmpp -n "__iotxmpp_in device $action" -l iterations -x -d 'PBKDF2 iterations (at least 4096)'
end
for action in list show
    complete -c iotxmpp -n "__iotxmpp_in device $action" -l json -d 'Print JSON'
end
