#!/bin/sh
# Prints the recommended status of every room with a device online, every
# INTERVAL seconds (or once).
#
#   poll-recommendations.sh [--once] [--interval SECONDS] [ROOM...]
#
# Rooms: the ones given, else those of the devices online now, as the
# server lists them (`iotxmpp query devices --json`: each device with the
# room of its latest report, on every node sharing the server's database).
#
# The server comes from iotxmpp's usual places: IOTXMPP_SERVER,
# IOTXMPP_DOMAIN, the config file. IOTXMPP_BIN names the binary.
set -eu

iotxmpp=${IOTXMPP_BIN:-iotxmpp}
interval=60
once=no
while [ $# -gt 0 ]; do
    case $1 in
        --once) once=yes; shift ;;
        --interval) interval=$2; shift 2 ;;
        --help|-h) sed -n '2,12s/^# \{0,1\}//p' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) echo "poll-recommendations.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done

# The rooms of online devices, one per line (none before a first report).
online_rooms() {
    devices=$("$iotxmpp" query devices --json </dev/null) || return
    printf '%s\n' "$devices" | grep -o '"room": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | grep -v '^$' | sort -u
}

status=0
while :; do
    if [ $# -gt 0 ]; then
        rooms=$(printf '%s\n' "$@")
    else
        rooms=$(online_rooms) || { echo "poll-recommendations.sh: cannot list the online rooms" >&2; exit 3; }
    fi
    [ -n "$rooms" ] || echo "poll-recommendations.sh: no room online" >&2
    while IFS= read -r room; do
        [ -n "$room" ] || continue
        "$iotxmpp" query recommend --room "$room" </dev/null || status=$?
    done <<ROOMS
$rooms
ROOMS
    [ $once = yes ] && exit $status
    sleep "$interval"
done
