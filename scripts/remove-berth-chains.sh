#!/usr/bin/env bash
# Removes berth's global iptables chains and the jumps into them once nothing uses them.
# Every berthd shares these chains (as every dockerd shares DOCKER), so no daemon removes
# them at stop; the test run calls this at its end. It leaves them alone while a berthd
# runs or while any of them still holds a rule, and a daemon makes them again at start.
set -uo pipefail
command -v iptables >/dev/null || exit 0
pgrep -f 'berthd' >/dev/null && exit 0

filter_chains=(BERTH BERTH-ISOLATION-STAGE-1 BERTH-ISOLATION-STAGE-2 BERTH-USER)
nat_chains=(BERTH)

empty() { # table chain: true when the chain exists and holds no rule
  local lines
  lines=$(iptables -w -t "$1" -S "$2" 2>/dev/null) || return 1
  [ "$(printf '%s\n' "$lines" | grep -c .)" -eq 1 ]
}
for c in "${filter_chains[@]}"; do iptables -w -t filter -S "$c" >/dev/null 2>&1 && { empty filter "$c" || exit 0; }; done
for c in "${nat_chains[@]}"; do iptables -w -t nat -S "$c" >/dev/null 2>&1 && { empty nat "$c" || exit 0; }; done

# The jumps first (a chain that is jumped to cannot be deleted), each as often as it is there.
drop_jumps() { # table builtin-chain target
  while iptables -w -t "$1" -S "$2" | grep -q -- "-j $3\$"; do
    local spec
    spec=$(iptables -w -t "$1" -S "$2" | grep -- "-j $3\$" | head -1 | sed "s/^-A $2 //")
    # shellcheck disable=SC2086  # the rule's words are iptables arguments
    iptables -w -t "$1" -D "$2" $spec || return
  done
}
for c in "${filter_chains[@]}"; do drop_jumps filter FORWARD "$c"; done
drop_jumps nat PREROUTING BERTH
drop_jumps nat OUTPUT BERTH

for c in "${filter_chains[@]}"; do iptables -w -t filter -X "$c" 2>/dev/null; done
for c in "${nat_chains[@]}"; do iptables -w -t nat -X "$c" 2>/dev/null; done
exit 0
