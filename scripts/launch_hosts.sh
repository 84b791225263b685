#!/usr/bin/env bash
# Start one process of a multi-host mlpkit run (or all of them on this machine).
#
# Every process runs the same command; keras.distribution.initialize() (called by
# mlpkit when KERAS_DISTRIBUTION_NUM_PROCESSES > 1) joins them through JAX's
# coordinator, process 0, which listens on the coordinator's address. Then
# `--devices all` means every device of every process, and each batch is split
# across all of them (keras.distribution.DataParallel).
#
# On each host (here 2 hosts; 10.0.0.1 runs process 0):
#   scripts/launch_hosts.sh --coordinator 10.0.0.1:1234 --processes 2 --process-id 0 -- \
#       mlpkit train fashion-mnist --devices all --out runs/dp-{process_id}
#   scripts/launch_hosts.sh --coordinator 10.0.0.1:1234 --processes 2 --process-id 1 -- \
#       mlpkit train fashion-mnist --devices all --out runs/dp-{process_id}
#
# On one machine, N processes (a rehearsal; on CPU each process has one device):
#   scripts/launch_hosts.sh --local 2 -- mlpkit train fashion-mnist --devices all \
#       --epochs 1 --out runs/dp-{process_id}
#
# {process_id} in the command becomes this process's id: each process writes its own
# run folder (they hold the same weights), so a shared file system sees no clash.
# The variables set are Keras's own: KERAS_DISTRIBUTION_JOB_ADDRESSES (the
# coordinator's host:port), KERAS_DISTRIBUTION_NUM_PROCESSES and
# KERAS_DISTRIBUTION_PROCESS_ID (0 to N-1); set them yourself to do without this script.
set -euo pipefail

usage() {
    sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
}

coordinator="" processes="" process_id="" local_count=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --coordinator) coordinator="$2"; shift 2 ;;
        --processes) processes="$2"; shift 2 ;;
        --process-id) process_id="$2"; shift 2 ;;
        --local) local_count="$2"; shift 2 ;;
        --) shift; break ;;
        -h|--help) usage ;;
        *) echo "launch_hosts.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
[[ $# -gt 0 ]] || { echo "launch_hosts.sh: no command after -- (see --help)" >&2; exit 2; }

# the command with {process_id} replaced
command_for() {
    local id="$1"; shift
    local out=() arg
    for arg in "$@"; do out+=("${arg//\{process_id\}/$id}"); done
    printf '%s\0' "${out[@]}"
}

if [[ -n "$local_count" ]]; then
    # a free port on loopback for the coordinator
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    pids=()
    for ((i = 0; i < local_count; i++)); do
        mapfile -d '' cmd < <(command_for "$i" "$@")
        KERAS_DISTRIBUTION_JOB_ADDRESSES="127.0.0.1:$port" \
        KERAS_DISTRIBUTION_NUM_PROCESSES="$local_count" \
        KERAS_DISTRIBUTION_PROCESS_ID="$i" \
            "${cmd[@]}" > >(sed -u "s/^/[$i] /") 2> >(sed -u "s/^/[$i] /" >&2) &
        pids+=($!)
    done
    status=0
    for pid in "${pids[@]}"; do
        wait "$pid" || status=$?
    done
    exit "$status"
fi

if [[ -z "$coordinator" || -z "$processes" || -z "$process_id" ]]; then
    echo "launch_hosts.sh: give --coordinator HOST:PORT, --processes N and --process-id I" \
         "(or --local N). See --help." >&2
    exit 2
fi
mapfile -d '' cmd < <(command_for "$process_id" "$@")
export KERAS_DISTRIBUTION_JOB_ADDRESSES="$coordinator"
export KERAS_DISTRIBUTION_NUM_PROCESSES="$processes"
export KERAS_DISTRIBUTION_PROCESS_ID="$process_id"
exec "${cmd[@]}"
