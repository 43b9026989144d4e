#!/bin/sh
# bench-smoke.sh BUILDDIR: prove that the built batchudp-bench works.  Runs
# it with --quick in each mode (and with 1400-byte datagrams for the GRO
# rows and the send mode's GSO row), and checks the exit status and that the table has every expected
# row, measured or marked as not supported here.  Asserts no timings.
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

run help 0 --help
if grep -q -- "--methods" "$scratch/help.txt"; then ok "help lists options"; else not_ok "help lists options"; fi
if grep -Eq "^  send-gso +" "$scratch/help.txt" && grep -q "send:" "$scratch/help.txt"; then
    ok "help lists the send mode and its methods"
else
    not_ok "help lists the send mode and its methods"
fi
run bad-option 2 --no-such-option
run bad-method 2 --methods no-such-method
run send-mode-receive-method 2 --mode send --methods mmsg
run receive-mode-send-method 2 --methods send-gso
run bad-size 2 --size 0

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
assert run["reference"] == "raw-recvmmsg"
EOF
    then ok "JSON has every sample"; else not_ok "JSON has every sample"; fi
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
