// The iptables rules berth needs, as pure data: Docker's layout (a DOCKER chain per
// table, two isolation stages, a user chain) under berth's own chain names, so berth and
// a real dockerd can run side by side without touching each other's rules.
//
// Every rule is written exactly as `iptables-save` prints it back, so the rules in force
// can be compared with the rules wanted as plain strings (see reconcile), and every rule
// for a bridge names that bridge (-i/-o), so "all of ours for this bridge" is a filter.

export type Table = 'filter' | 'nat';

export interface Rule {
  table: Table;
  chain: string;
  spec: string; // everything after "-A <chain> "
  // Where a missing rule goes: most are appended; a few must come first in their chain.
  insert?: boolean;
}

export const CHAIN = 'BERTH';
export const ISOLATION_1 = 'BERTH-ISOLATION-STAGE-1';
export const ISOLATION_2 = 'BERTH-ISOLATION-STAGE-2';
export const USER_CHAIN = 'BERTH-USER';

export const OWN_CHAINS: Record<Table, string[]> = {
  filter: [CHAIN, ISOLATION_1, ISOLATION_2, USER_CHAIN],
  nat: [CHAIN],
};

// The jumps into our chains. BERTH-USER comes first in FORWARD, so what an admin puts
// there is seen before anything berth allows (Docker's DOCKER-USER contract).
export function baseRules(): Rule[] {
  return [
    { table: 'filter', chain: 'FORWARD', spec: `-j ${USER_CHAIN}`, insert: true },
    { table: 'filter', chain: 'FORWARD', spec: `-j ${ISOLATION_1}`, insert: true },
    { table: 'nat', chain: 'PREROUTING', spec: `-m addrtype --dst-type LOCAL -j ${CHAIN}` },
    // Loopback is left to the userland proxy: the kernel will not route 127/8 to a bridge.
    { table: 'nat', chain: 'OUTPUT', spec: `! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j ${CHAIN}` },
  ];
}

export interface NetworkRuleInput {
  bridge: string;
  subnet: string; // "172.17.0.0/16"
  internal: boolean;
  icc: boolean; // containers on the bridge may talk to each other
  masquerade: boolean;
}

export function networkRules(n: NetworkRuleInput): Rule[] {
  const br = n.bridge;
  const rules: Rule[] = [];
  if (n.internal) {
    // An internal network reaches nothing outside its own subnet, in either direction.
    rules.push(
      { table: 'filter', chain: ISOLATION_1, spec: `! -s ${n.subnet} -o ${br} -j DROP`, insert: true },
      { table: 'filter', chain: ISOLATION_1, spec: `! -d ${n.subnet} -i ${br} -j DROP`, insert: true },
    );
  } else {
    // Traffic from the host's own addresses back into the bridge's containers is
    // never DNATed by another network's published ports (it goes to the proxy).
    rules.push({ table: 'nat', chain: CHAIN, spec: `-i ${br} -j RETURN`, insert: true });
    if (n.masquerade) rules.push({ table: 'nat', chain: 'POSTROUTING', spec: `-s ${n.subnet} ! -o ${br} -j MASQUERADE` });
    rules.push(
      { table: 'filter', chain: 'FORWARD', spec: `-o ${br} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` },
      { table: 'filter', chain: 'FORWARD', spec: `-o ${br} -j ${CHAIN}` },
      { table: 'filter', chain: 'FORWARD', spec: `-i ${br} ! -o ${br} -j ACCEPT` },
    );
  }
  rules.push({ table: 'filter', chain: 'FORWARD', spec: `-i ${br} -o ${br} -j ${n.icc ? 'ACCEPT' : 'DROP'}` });
  // Stage 1 sends what leaves this bridge for another interface to stage 2, which drops
  // it if that interface is another of our bridges: user networks stay apart.
  rules.push(
    { table: 'filter', chain: ISOLATION_1, spec: `-i ${br} ! -o ${br} -j ${ISOLATION_2}` },
    { table: 'filter', chain: ISOLATION_2, spec: `-o ${br} -j DROP` },
  );
  return rules;
}

export interface PortRuleInput {
  bridge: string;
  containerIp: string;
  containerPort: number;
  proto: 'tcp' | 'udp' | 'sctp';
  hostIp: string; // '' or '0.0.0.0' for any IPv4 address of the host
  hostPort: number;
}

export function portRules(p: PortRuleInput): Rule[] {
  const br = p.bridge;
  const dst = p.hostIp && p.hostIp !== '0.0.0.0' ? `-d ${p.hostIp}/32 ` : '';
  const proto = `-p ${p.proto} -m ${p.proto}`;
  return [
    { table: 'nat', chain: CHAIN, spec: `${dst}! -i ${br} ${proto} --dport ${p.hostPort} -j DNAT --to-destination ${p.containerIp}:${p.containerPort}` },
    { table: 'filter', chain: CHAIN, spec: `-d ${p.containerIp}/32 ! -i ${br} -o ${br} ${proto} --dport ${p.containerPort} -j ACCEPT` },
    // Hairpin: a container reaching its own published port through the host's address.
    { table: 'nat', chain: 'POSTROUTING', spec: `-s ${p.containerIp}/32 -d ${p.containerIp}/32 -o ${br} ${proto} --dport ${p.containerPort} -j MASQUERADE` },
  ];
}

export function ruleKey(r: Rule): string {
  return `${r.table} ${r.chain} ${r.spec}`;
}

// `iptables-save` output → rules (only -A lines; policies and counters are not ours).
export function parseSave(text: string): Rule[] {
  const out: Rule[] = [];
  let table: Table | null = null;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) {
      const t = line.slice(1).trim();
      table = t === 'filter' || t === 'nat' ? t : null;
      continue;
    }
    if (!table || !line.startsWith('-A ')) continue;
    const rest = line.slice(3);
    const sp = rest.indexOf(' ');
    if (sp < 0) continue;
    out.push({ table, chain: rest.slice(0, sp), spec: rest.slice(sp + 1).trim() });
  }
  return out;
}

export function mentionsBridge(spec: string, bridge: string): boolean {
  const words = spec.split(' ');
  for (let i = 0; i + 1 < words.length; i++) if ((words[i] === '-i' || words[i] === '-o') && words[i + 1] === bridge) return true;
  return false;
}

// What to add and delete so that, for the given bridges, exactly `desired` is in force.
// Rules for other bridges (another berthd's, a real dockerd's) are never touched.
export function reconcile(actual: readonly Rule[], desired: readonly Rule[], bridges: ReadonlySet<string>): { add: Rule[]; del: Rule[] } {
  const ours = (r: Rule): boolean => [...bridges].some((b) => mentionsBridge(r.spec, b));
  const want = new Map<string, number>();
  for (const r of desired) want.set(ruleKey(r), (want.get(ruleKey(r)) ?? 0) + 1);
  const del: Rule[] = [];
  for (const r of actual) {
    const k = ruleKey(r);
    const left = want.get(k);
    if (left !== undefined) {
      if (left > 1) want.set(k, left - 1);
      else want.delete(k);
      continue;
    }
    if (ours(r)) del.push(r);
  }
  const add = desired.filter((r) => {
    const left = want.get(ruleKey(r));
    if (!left) return false;
    if (left > 1) want.set(ruleKey(r), left - 1);
    else want.delete(ruleKey(r));
    return true;
  });
  return { add, del };
}

// An iptables-restore --noflush script. It never declares a chain: declaring one that
// exists flushes it, even with --noflush (chains are made with `iptables -N` instead).
export function restoreScript(ops: ReadonlyArray<{ op: '-A' | '-I' | '-D'; rule: Rule }>): string {
  let out = '';
  for (const table of ['filter', 'nat'] as const) {
    const lines = ops.filter((o) => o.rule.table === table);
    if (!lines.length) continue;
    out += `*${table}\n`;
    for (const { op, rule } of lines) out += `${op} ${rule.chain}${op === '-I' ? ' 1' : ''} ${rule.spec}\n`;
    out += 'COMMIT\n';
  }
  return out;
}

export function opFor(r: Rule): '-A' | '-I' {
  return r.insert ? '-I' : '-A';
}
