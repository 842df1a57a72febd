#!/usr/bin/env bash
# A real single-node Slurm cluster on 127.0.0.1 for the tests: Debian's slurm-wlm and munge.
#
#   scripts/slurm-local.sh install        install slurm-wlm and munge when missing (through scripts/setup.sh)
#   scripts/slurm-local.sh start RUNDIR   write RUNDIR/slurm.conf from deploy/slurm/local/slurm.conf.in,
#                                         start munged, slurmctld and slurmd (pids in RUNDIR/*.pid),
#                                         wait until the node is idle; prints "export SLURM_CONF=…"
#   scripts/slurm-local.sh stop RUNDIR    stop exactly those daemons (by their pid files)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cmd=${1:-}; run=${2:-}

install_packages() {  # one install policy for the project: scripts/setup.sh (slurm-wlm and munge among its packages)
  "$repo/scripts/setup.sh"
}

stop_pid_file() {  # stops the process named in a pid file, waits up to 10 s, then SIGKILL
  local f=$1
  [ -f "$f" ] || return 0
  local pid; pid=$(cat "$f" 2>/dev/null || true)
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

case "$cmd" in
  install) install_packages ;;
  start)
    [ -n "$run" ] || { echo "usage: $0 start RUNDIR" >&2; exit 64; }
    install_packages
    mkdir -p "$run/state" "$run/spool" "$run/munge"
    chmod 700 "$run/munge"
    sed "s|@RUN@|$run|g" "$repo/deploy/slurm/local/slurm.conf.in" > "$run/slurm.conf"
    # A fresh MUNGE key and a private socket: nothing shared with a system munged.
    dd if=/dev/urandom of="$run/munge/munge.key" bs=1024 count=1 status=none
    chmod 600 "$run/munge/munge.key"
    # The daemons get no stdin/stdout/stderr of ours (they log to files in RUNDIR): a caller reading
    # this script's output until end-of-file must not wait for the daemons to exit.
    munged --force --key-file="$run/munge/munge.key" --socket="$run/munge/munge.socket" \
      --pid-file="$run/munged.pid" --log-file="$run/munged.log" --seed-file="$run/munge/munge.seed" </dev/null >/dev/null 2>"$run/munged.stderr" \
      || { echo "slurm-local: munged did not start:" >&2; cat "$run/munged.stderr" >&2; exit 1; }
    export SLURM_CONF="$run/slurm.conf"
    slurmctld -f "$run/slurm.conf" </dev/null >/dev/null 2>"$run/slurmctld.stderr" \
      || { echo "slurm-local: slurmctld did not start:" >&2; cat "$run/slurmctld.stderr" >&2; "$0" stop "$run"; exit 1; }
    slurmd -f "$run/slurm.conf" -N localhost </dev/null >/dev/null 2>"$run/slurmd.stderr" \
      || { echo "slurm-local: slurmd did not start:" >&2; cat "$run/slurmd.stderr" >&2; "$0" stop "$run"; exit 1; }
    for _ in $(seq 300); do
      state=$(sinfo -h -N -o '%t' 2>/dev/null | head -1 || true)
      [ "$state" = "idle" ] && break
      sleep 0.2
    done
    if [ "$state" != "idle" ]; then
      echo "slurm-local: the node did not become idle (state '$state'); logs in $run" >&2
      tail -20 "$run/slurmctld.log" "$run/slurmd.log" >&2 || true
      "$0" stop "$run"; exit 1
    fi
    echo "export SLURM_CONF=$run/slurm.conf"
    ;;
  stop)
    [ -n "$run" ] || { echo "usage: $0 stop RUNDIR" >&2; exit 64; }
    stop_pid_file "$run/slurmd.pid"
    stop_pid_file "$run/slurmctld.pid"
    stop_pid_file "$run/munged.pid"
    ;;
  *) echo "usage: $0 install | start RUNDIR | stop RUNDIR" >&2; exit 64 ;;
esac
