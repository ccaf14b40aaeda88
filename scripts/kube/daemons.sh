# Shared by start.sh, stop.sh, node-start.sh and node-stop.sh (sourced, not run): the daemons of a
# cluster, by the pid files in $dir/pids and the logs in $dir/logs. The caller defines die().
# shellcheck shell=bash disable=SC2154 # $dir is set by the script that sources this file

# alive PID: the process runs. A zombie counts as gone: our daemons outlive the script that started
# them, and whoever inherits them (PID 1 of a container, say) may never reap them.
alive() {
    local state
    state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
    [[ $state != Z ]]
}

# ours PID: alive, and its command line still names $dir (pids get reused)
ours() {
    local cmdline
    alive "$1" && cmdline=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) && [[ $cmdline == *"$dir/"* ]]
}

# daemons_alive WHAT: die, showing its log, when a daemon exited while we waited for WHAT
daemons_alive() {
    local pidfile
    for pidfile in "$dir"/pids/*.pid; do
        [[ -f $pidfile ]] || continue
        alive "$(<"$pidfile")" && continue
        pidfile=$(basename "$pidfile" .pid)
        tail -n 20 "$dir/logs/$pidfile.log" >&2
        die "$pidfile exited while waiting for $1 (log: $dir/logs/$pidfile.log)"
    done
}

# stop_daemon NAME [TENTHS]: SIGTERM, SIGKILL after TENTHS tenths of a second (default 50), if ours
stop_daemon() {
    local pidfile=$dir/pids/$1.pid pid
    [[ -f $pidfile ]] || return 0
    pid=$(<"$pidfile")
    if ours "$pid"; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq "${2:-50}"); do
            alive "$pid" || break
            sleep 0.1
        done
        ! alive "$pid" || kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}
