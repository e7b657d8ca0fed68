# bash completion for iotxmpp                              -*- shell-script -*-
# Installed as share/bash-completion/completions/iotxmpp. The flag lists
# mirror `iotxmpp SUB --help`; tests/cli/completion_test.cpp keeps them in step.

_iotxmpp_global_flags="--help --version --config --print-config"
_iotxmpp_subcommands="serve db-init reap device simulate send query tail"
_iotxmpp_client_flags="--server --domain --timeout --json --user --password-file --tls --tls-ca
                       --tls-insecure --help"

# The actions of a subcommand that has them.
_iotxmpp_actions() {
    case $1 in
        query) echo "recommend ping devices info version" ;;
        send) echo "status presence raw" ;;
        device) echo "add list show passwd grant revoke disable enable remove" ;;
    esac
}

# The flags of a subcommand (or "SUB ACTION").
_iotxmpp_flags() {
    case $1 in
        serve) echo "--db --log-level --log-format --listen --domain --threads --rules
                     --stale-after --reap-every --idle-timeout --negotiation-timeout
                     --max-stanza-bytes --max-depth --max-negotiating --queue --tls-cert
                     --tls-key --listen-tls --tls-optional --anonymous --allow-plaintext-auth
                     --max-stanza-rate --max-byte-rate --rate-burst --rate-grace
                     --max-connect-rate --resume-window --listen-proxy --listen-tls-proxy
                     --trusted-proxy --node-id --metrics --help" ;;
        db-init) echo "--db --json --help" ;;
        reap) echo "--db --stale-after --dry-run --json --help" ;;
        "device add") echo "--db --room --password-file --iterations --count --prefix
                            --room-pattern --help" ;;
        "device passwd") echo "--db --password-file --iterations --help" ;;
        "device list"|"device show") echo "--db --json --help" ;;
        "device "*) echo "--db --help" ;;
        simulate) echo "$_iotxmpp_client_flags --count --threads --ramp --interval --jitter
                        --query-every --duration --reports --window --drain-timeout --seed
                        --user-pattern" ;;
        tail) echo "$_iotxmpp_client_flags --room --count" ;;
        "query recommend") echo "$_iotxmpp_client_flags --room" ;;
        "query "*) echo "$_iotxmpp_client_flags" ;;
        "send status") echo "$_iotxmpp_client_flags --room --temperature --humidity --brightness
                             --at --id" ;;
        "send presence") echo "$_iotxmpp_client_flags --show --status --unavailable" ;;
        "send raw") echo "$_iotxmpp_client_flags --lines" ;;
        *) echo "--help" ;;
    esac
}

# Flags that take no value (everything else consumes the next word).
_iotxmpp_is_switch() {
    case $1 in
        --help|-h|--version|-V|--print-config|--json|--dry-run|--unavailable|--lines|-l|--tls|\
        --tls-insecure|--tls-optional|--allow-plaintext-auth) return 0 ;;
    esac
    return 1
}

# Rooms of the devices online now (`query devices --json`), from a server
# that answers within a second; nothing otherwise, and silently. The
# connection flags on the command line (--server, --domain, TLS, login,
# --config) are passed on; IOTXMPP_SERVER and the config file work as usual.
_iotxmpp_rooms() {
    # The line up to the cursor split at blanks only: COMP_WORDS has
    # "host:port" and "--flag=value" in pieces (':' and '=' break words).
    local line words=() args=() i
    if [[ -n ${COMP_LINE-} ]]; then
        line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
    else
        line="${COMP_WORDS[*]:0:COMP_CWORD}"
    fi
    read -ra words <<<"$line"
    for ((i = 1; i < ${#words[@]}; i++)); do
        case ${words[i]} in
            --server|--domain|--user|--password-file|--tls-ca|--config)
                ((i + 1 < ${#words[@]})) && args+=("${words[i]}" "${words[i + 1]}")
                ((i++)) ;;
            --server=*|--domain=*|--user=*|--password-file=*|--tls-ca=*|--config=*|--tls|\
            --tls-insecure) args+=("${words[i]}") ;;
        esac
    done
    timeout 2 "${COMP_WORDS[0]}" query devices --json --timeout 1s "${args[@]}" 2>/dev/null |
        grep -o '"room": *"[^"]*"' | sed 's/.*"\([^"]*\)"$/\1/' | grep -v '^$' | sort -u
}

_iotxmpp() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    # "--flag=value": bash splits at '=' (COMP_WORDBREAKS).
    if [[ $cur == "=" ]]; then
        cur=""
    elif [[ $prev == "=" ]]; then
        prev=${COMP_WORDS[COMP_CWORD - 2]}
    elif [[ $prev == ":" && ${COMP_WORDS[COMP_CWORD - 2]} == sqlite ]]; then
        # "--db sqlite:PATH" arrives as "sqlite" ":" "PATH" (':' breaks words).
        COMPREPLY=($(compgen -f -- "$cur"))
        return
    elif [[ $cur == ":" && $prev == sqlite ]]; then
        COMPREPLY=($(compgen -f -- ""))
        return
    fi

    # Find the subcommand and its action, skipping flags and their values.
    local sub="" action="" i word
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${COMP_WORDS[i]}
        if [[ $word == -* ]]; then
            [[ $word == *=* ]] || _iotxmpp_is_switch "$word" || ((i++))
        elif [[ $word == "=" || $word == ":" ]]; then
            ((i++))
        elif [[ -z $sub ]]; then
            sub=$word
        elif [[ -z $action && -n $(_iotxmpp_actions "$sub") ]]; then
            action=$word
        fi
    done

    case $prev in
        --log-level) COMPREPLY=($(compgen -W "debug info warn error off" -- "$cur")); return ;;
        --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
        --show) COMPREPLY=($(compgen -W "away chat dnd xa" -- "$cur")); return ;;
        --anonymous) COMPREPLY=($(compgen -W "yes no" -- "$cur")); return ;;
        --config|--password-file|--tls-ca|--tls-cert|--tls-key) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --rules) COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur")); return ;;
        --db)
            if [[ $cur == sqlite:* ]]; then
                COMPREPLY=($(compgen -f -P sqlite: -- "${cur#sqlite:}"))
            else
                COMPREPLY=($(compgen -W "sqlite: mysql://" -- "$cur"))
                [[ ${#COMPREPLY[@]} -eq 1 ]] && compopt -o nospace 2>/dev/null
            fi
            return ;;
        --room|-r) COMPREPLY=($(compgen -W "$(_iotxmpp_rooms)" -- "$cur")); return ;;
    esac
    if [[ $prev == -* && $prev != *=* ]] && ! _iotxmpp_is_switch "$prev"; then
        return  # a value we cannot guess
    fi

    local words
    if [[ -z $sub ]]; then
        [[ $cur == -* ]] && words=$_iotxmpp_global_flags || words=$_iotxmpp_subcommands
    elif [[ -n $(_iotxmpp_actions "$sub") && -z $action ]]; then
        [[ $cur == -* ]] && words="--help" || words=$(_iotxmpp_actions "$sub")
    elif [[ $cur == -* ]]; then
        words="$(_iotxmpp_flags "$sub${action:+ $action}") --config --print-config"
    fi
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

complete -F _iotxmpp iotxmpp
