#!/bin/sh
# bench-smoke.sh BUILDDIR: prove that the built batchudp-bench works.  Runs
# it with --quick in each mode (and with 1400-byte datagrams for the GRO
# rows, the send mode's GSO row and the relay mode), and checks the exit
# status and that the table has every expected row, measured or marked as
# not supported here (the relay rows where network namespaces cannot be
# made: not root, no `ip`; socket groups where the system has none), that
# the stream mode's socket groups are compared with one socket and their
# counts add up, and that the relay mode leaves no namespace behind, also
# when killed.  Asserts no timings.
# Scratch files go under BUILDDIR.  Exit status: 0 pass, 1 fail.
set -u

builddir=${1:?usage: bench-smoke.sh BUILDDIR}
here=$(cd "$(dirname "$0")" && pwd)
bench=$builddir/tools/batchudp-bench
scratch=$builddir/bench-smoke.out
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok - $1"; }
not_ok() { failed=$((failed + 1)); echo "not ok - $1"; }

if [ ! -x "$bench" ]; then
    echo "bench-smoke: $bench is not built" >&2
    exit 1
fi
mkdir -p "$scratch" || exit 1

# check_rows NAME METHOD...: in the output of run NAME, each method has a row that either has numbers
# or says why it cannot run here; none failed.
check_rows() {
    name=$1
    file=$scratch/$name.txt
    shift
    for m in "$@"; do
        line=$(grep -E "^$m +" "$file" | head -n 1)
        case $line in
            "")
                not_ok "$name: no row for $m" ;;
            *FAILED*)
                not_ok "$name: $m failed: $line" ;;
            *"n/a (not supported"*|*"skipped (backend not present"*)
                ok "$name: $m not supported here" ;;
            *)
                if echo "$line" | grep -Eq "^$m +[a-z-]+ +[0-9]+(\.[0-9]+)? "; then
                    ok "$name: $m measured"
                else
                    not_ok "$name: $m row malformed: $line"
                fi ;;
        esac
    done
}

# run NAME EXPECTED_STATUS ARGS...: run the bench, keep its output.
run() {
    name=$1
    want=$2
    shift 2
    "$bench" "$@" > "$scratch/$name.txt" 2> "$scratch/$name.err"
    got=$?
    if [ "$got" -eq "$want" ]; then
        ok "$name: exit status $got"
    else
        not_ok "$name: exit status $got, wanted $want"
        sed 's/^/    /' "$scratch/$name.txt" "$scratch/$name.err"
    fi
}

base="recvfrom raw-recvmmsg mmsg msgx packed dispatch loop threaded threaded-cb"

run drain 0 --quick --json "$scratch/drain.json"
check_rows drain $base

run drain-1400 0 --quick --size 1400
check_rows drain-1400 $base gro gro-off

run stream 0 --quick --mode stream --duration 0.2
check_rows stream $base
# The default list has a hash group and a CPU group of one member per CPU.
check_rows stream "group-[0-9]+" "group-cpu-[0-9]+"

# Socket groups: two and four members with the kernel's hash, two with CPU
# steering, two sender threads; mmsg, the one-socket row they are compared
# with, joins by itself.
groups="group-2 group-4 group-cpu-2"
run stream-groups 0 --quick --mode stream --duration 0.2 --senders 2 \
    --methods group-2,group-4,group-cpu-2 --json "$scratch/stream-groups.json"
check_rows stream-groups $groups mmsg raw-recvmmsg
# The comparison table: a line for each group and for mmsg: members, rate,
# ratio [interval], datagrams per CPU second, ratio [interval], shares.
for m in mmsg $groups; do
    line=$(sed -n '/^socket groups against one socket/,$p' "$scratch/stream-groups.txt" |
           grep -E "^$m +" | head -n 1)
    if grep -Eq "^$m +- +(n/a|skipped)" "$scratch/stream-groups.txt"; then
        ok "stream-groups: $m not supported here"
    elif echo "$line" | grep -Eq "^$m +[0-9]+ +[0-9]+ +[0-9]+\.[0-9]+x \[[0-9.]+-[0-9.]+\] +[0-9]+ +[0-9]+\.[0-9]+x \[[0-9.]+-[0-9.]+\] +([0-9]+-[0-9]+%|-)$"; then
        ok "stream-groups: $m compared with one socket"
    else
        not_ok "stream-groups: no comparison line for $m: $line"
    fi
done

run latency 0 --quick --mode latency
check_rows latency $base

run methods 0 --quick --methods mmsg,loop --batch 8
check_rows methods mmsg loop raw-recvmmsg

sends="raw-sendto raw-sendmmsg send send-gso"

run send 0 --quick --mode send --json "$scratch/send.json"
check_rows send $sends

run send-1400 0 --quick --mode send --size 1400
check_rows send-1400 $sends

run send-methods 0 --quick --mode send --methods send-gso --batch 8
check_rows send-methods send-gso raw-sendmmsg

relays="relay-recvfrom relay-mmsg relay-lib relay-lib-gro"

run relay 0 --quick --mode relay --json "$scratch/relay.json"
check_rows relay $relays

run relay-1400 0 --quick --mode relay --size 1400
check_rows relay-1400 $relays

run relay-methods 0 --quick --mode relay --methods relay-lib-gro --batch 8
check_rows relay-methods relay-lib-gro relay-recvfrom

# leftover_namespaces: the relay namespaces (budp-relay-PID-a/b) of bench
# processes that are gone.  Those of runs still going elsewhere are theirs.
leftover_namespaces() {
    command -v ip >/dev/null 2>&1 || return 0
    ip netns list 2>/dev/null | sed -n 's/^budp-relay-\([0-9][0-9]*\)-[ab].*/\1/p' |
        sort -u | while read -r pid; do
            kill -0 "$pid" 2>/dev/null || echo "budp-relay-$pid"
        done
}

left=$(leftover_namespaces)
if [ -z "$left" ]; then ok "relay: no namespace left after the runs"; else not_ok "relay: namespaces left behind: $left"; fi

# Killed mid-run (SIGTERM; a background job of sh ignores SIGINT), the
# bench removes its namespaces before it dies.
if grep -q "n/a (not supported: cannot make network namespaces" "$scratch/relay.txt"; then
    echo "skipped: relay namespaces on SIGTERM (no namespaces here)"
else
    "$bench" --quick --mode relay --reps 256 > "$scratch/relay-term.txt" 2>&1 &
    pid=$!
    tries=0
    while [ $tries -lt 100 ] && ! ip netns list 2>/dev/null | grep -q "^budp-relay-$pid-b"; do
        sleep 0.05
        tries=$((tries + 1))
    done
    kill -TERM "$pid" 2>/dev/null
    wait "$pid"
    got=$?
    if ip netns list 2>/dev/null | grep -q "^budp-relay-$pid-"; then
        not_ok "relay: namespaces of process $pid left after SIGTERM"
    elif [ $tries -ge 100 ]; then
        not_ok "relay: namespaces of process $pid never appeared"
    elif [ "$got" -ne 143 ] && [ "$got" -ne 0 ]; then
        not_ok "relay: exit status $got after SIGTERM, wanted 143 (or 0 when it had finished)"
    else
        ok "relay: namespaces removed on SIGTERM"
    fi
fi

run help 0 --help
if grep -q -- "--methods" "$scratch/help.txt"; then ok "help lists options"; else not_ok "help lists options"; fi
if grep -Eq "^  send-gso +" "$scratch/help.txt" && grep -q "send:" "$scratch/help.txt"; then
    ok "help lists the send mode and its methods"
else
    not_ok "help lists the send mode and its methods"
fi
if grep -Eq "^  relay-lib-gro +" "$scratch/help.txt" && grep -q "relay:" "$scratch/help.txt"; then
    ok "help lists the relay mode and its methods"
else
    not_ok "help lists the relay mode and its methods"
fi
run bad-option 2 --no-such-option
run bad-method 2 --methods no-such-method
run send-mode-receive-method 2 --mode send --methods mmsg
run receive-mode-send-method 2 --methods send-gso
run relay-mode-receive-method 2 --mode relay --methods mmsg
run receive-mode-relay-method 2 --methods relay-mmsg
run relay-too-large 2 --mode relay --size 1473
run bad-size 2 --size 0
run drain-mode-group 2 --methods group-2
run group-of-none 2 --mode stream --methods group-0
run bad-flows 2 --mode stream --flows 0

if command -v python3 >/dev/null 2>&1; then
    if python3 - "$scratch/drain.json" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
methods = {r["method"]: r for r in run["results"]}
for m in ("recvfrom", "raw-recvmmsg", "mmsg", "loop"):
    r = methods[m]
    assert r["status"] == "ok", (m, r["status"])
    assert len(r["samples"]) == run["config"]["reps"], m
    assert all(s["datagrams"] > 0 for s in r["samples"]), m
    # Per-round ratios: one per round, summarised.
    assert len(r["round_ratios"]) == run["config"]["reps"], m
    assert r["round_ratio_min"] <= r["round_ratio_p25"] <= r["round_ratio"], m
    assert r["round_ratio"] <= r["round_ratio_p75"] <= r["round_ratio_max"], m
    assert r["round_ratio_min"] <= r["round_ratio_ci_low"] <= r["round_ratio"], m
    assert r["round_ratio"] <= r["round_ratio_ci_high"] <= r["round_ratio_max"], m
assert run["reference"] == "raw-recvmmsg"
assert methods["raw-recvmmsg"]["round_ratio"] == 1.0
EOF
    then ok "JSON has every sample and the per-round ratios"; else not_ok "JSON has every sample and the per-round ratios"; fi
    if python3 - "$scratch/relay.json" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
assert run["config"]["mode"] == "relay"
assert run["reference"] == "relay-recvfrom"
methods = {r["method"]: r for r in run["results"]}
for m in ("relay-recvfrom", "relay-mmsg", "relay-lib", "relay-lib-gro"):
    r = methods[m]
    if r["status"] == "n/a":
        assert r["note"].startswith("n/a (not supported: "), (m, r["note"])
        continue
    assert r["status"] == "ok", (m, r["status"])
    assert len(r["samples"]) == run["config"]["reps"], m
    assert len(r["round_ratios"]) == run["config"]["reps"], m
    for s in r["samples"]:
        assert s["expected"] > 0 and s["datagrams"] == s["expected"], (m, s)
        assert s["lost"] == 0 and s["bad_lengths"] == 0, (m, s)
        assert s["cpu_rate"] > 0 and s["per_call"] > 0 and s["tx_per_call"] > 0, (m, s)
# GSO off must mean no GSO send.
for m in ("relay-recvfrom", "relay-mmsg", "relay-lib"):
    if methods[m]["status"] == "ok":
        assert all(s["gso_per_call"] == 0 for s in methods[m]["samples"]), m
EOF
    then ok "relay JSON has every sample"; else not_ok "relay JSON has every sample"; fi
    if python3 - "$scratch/send.json" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
assert run["config"]["mode"] == "send"
assert run["reference"] == "raw-sendmmsg"
methods = {r["method"]: r for r in run["results"]}
for m in ("raw-sendto", "raw-sendmmsg", "send", "send-gso"):
    r = methods[m]
    assert r["status"] == "ok", (m, r["status"])
    assert len(r["samples"]) == run["config"]["reps"], m
    for s in r["samples"]:
        assert s["expected"] > 0 and s["datagrams"] == s["expected"], (m, s)
        assert s["lost"] == 0 and s["bad_lengths"] == 0, (m, s)
        assert s["cpu_rate"] > 0 and s["per_call"] > 0, (m, s)
# GSO off must mean no GSO send.
assert all(s["gso_per_call"] == 0 for s in methods["send"]["samples"])
EOF
    then ok "send JSON has every sample"; else not_ok "send JSON has every sample"; fi
    if python3 - "$scratch/stream-groups.json" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
assert run["config"]["mode"] == "stream"
assert run["config"]["senders"] == 2 and run["config"]["flows"] == 4, run["config"]
methods = {r["method"]: r for r in run["results"]}
reps = run["config"]["reps"]
for m, members in (("group-2", 2), ("group-4", 4), ("group-cpu-2", 2), ("mmsg", 1),
                   ("raw-recvmmsg", 1)):
    r = methods[m]
    if r["status"] == "n/a" and m.startswith("group"):
        assert r["note"].startswith("n/a (not supported: "), (m, r["note"])
        continue
    assert r["status"] == "ok", (m, r["status"], r["note"])
    assert len(r["samples"]) == reps, m
    for s in r["samples"]:
        # Every datagram sent was received or dropped by the kernel (or by
        # a member's close): counted, none lost.
        assert s["expected"] > 0 and s["lost"] == 0 and s["bad_lengths"] == 0, (m, s)
        assert s["received_all"] + s["drops_all"] == s["expected"], (m, s)
        assert 0 < s["datagrams"] <= s["received_all"], (m, s)
        assert s["kernel_drops"] <= s["drops_all"], (m, s)
        assert s["members"] == members, (m, s)
        assert s["rate"] > 0 and s["cpu_rate"] > 0, (m, s)
        assert 0 <= s["share_min"] <= 1 / members + 1e-6, (m, s)
        assert 1 / members - 1e-6 <= s["share_max"] <= 1, (m, s)
    v = r["vs_one_socket"]
    assert v["baseline"] == "mmsg", v
    for k in ("rate", "cpu_rate"):
        assert v[k]["rounds"] == reps, (m, k, v)
        assert v[k]["min"] <= v[k]["ci_low"] <= v[k]["median"] <= v[k]["ci_high"] <= v[k]["max"], (m, k, v)
        if m == "mmsg":
            assert v[k]["median"] == 1.0, (m, k, v)
# The hash groups' flows are spread evenly (2 senders of 4 flows over 2 and
# 4 members): every member gets traffic.
for m in ("group-2", "group-4"):
    if methods[m]["status"] == "ok":
        assert all(s["share_min"] > 0 for s in methods[m]["samples"]), m
EOF
    then ok "stream groups JSON: counts add up, compared with one socket"; else not_ok "stream groups JSON: counts add up, compared with one socket"; fi
    if python3 "$here/plot-bench.py" -o "$scratch/plot.svg" "$scratch/drain.json" >/dev/null &&
        grep -q "</svg>" "$scratch/plot.svg"; then
        ok "plot-bench.py writes an SVG"
    else
        not_ok "plot-bench.py writes an SVG"
    fi
else
    echo "skipped: JSON and plot checks (python3 not found)"
fi

echo "bench-smoke: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
