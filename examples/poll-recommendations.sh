#!/bin/sh
# Prints the recommended status of every room with a device online, every
# INTERVAL seconds (or once).
#
#   poll-recommendations.sh [--once] [--interval SECONDS] [ROOM...]
#
# Rooms: the ones given, else those of the devices online now. The server
# answers `query devices` with device JIDs only (a room is not on the wire
# until a device reports it), so the rooms are read from the database the
# server writes: `iotxmpp reap --dry-run --json --stale-after 0s` lists every
# device with its room and whether it is online, and removes nothing. That
# needs the database (IOTXMPP_DB or the config file), so run it beside the
# server or give the rooms.
#
# The server and the database come from iotxmpp's usual places: IOTXMPP_SERVER,
# IOTXMPP_DOMAIN, IOTXMPP_DB, the config file. IOTXMPP_BIN names the binary.
set -eu

iotxmpp=${IOTXMPP_BIN:-iotxmpp}
interval=60
once=no
while [ $# -gt 0 ]; do
    case $1 in
        --once) once=yes; shift ;;
        --interval) interval=$2; shift 2 ;;
        --help|-h) sed -n '2,16s/^# \{0,1\}//p' "$0"; exit 0 ;;
        --) shift; break ;;
        -*) echo "poll-recommendations.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done

# The rooms of online devices, one per line.
online_rooms() {
    "$iotxmpp" reap --dry-run --json --stale-after 0s |
        sed 's/},{/}\n{/g' | grep '"online":true' |
        sed -n 's/.*"room":"\([^"]*\)".*/\1/p' | grep -v '^$' | sort -u
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
