import { runTool, ToolError } from './command.js';
import { baseRules, OWN_CHAINS, opFor, parseSave, reconcile, restoreScript, ruleKey, type Rule, type Table } from './iptables-rules.js';

// Applies berth's rules to the kernel. One change is one `iptables-restore --noflush`
// (atomic per table); changes are queued so a reconcile never interleaves with a
// publish. With `"iptables": false` in daemon.json every call is a no-op, as Docker.
export class Iptables {
  private tail: Promise<unknown> = Promise.resolve();

  constructor(readonly enabled: boolean) {}

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }

  private async current(): Promise<Rule[]> {
    return parseSave(await runTool('iptables-save', []));
  }

  // Our chains and the jumps into them. Chains are made one by one with -N (which
  // never touches an existing chain) so two berthds starting together cannot flush
  // each other's rules.
  ensureBase(): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return this.serial(async () => {
      const text = await runTool('iptables-save', []);
      const declared = new Set<string>();
      let table = '';
      for (const line of text.split('\n')) {
        if (line.startsWith('*')) table = line.slice(1).trim();
        else if (line.startsWith(':')) declared.add(`${table} ${line.slice(1).split(' ')[0]}`);
      }
      for (const t of ['filter', 'nat'] as Table[]) {
        for (const chain of OWN_CHAINS[t]) {
          if (declared.has(`${t} ${chain}`)) continue;
          await runTool('iptables', ['-w', '-t', t, '-N', chain]).catch((err: Error) => {
            if (!/already exists/i.test(err.message)) throw err;
          });
        }
      }
      const have = new Set(parseSave(text).map(ruleKey));
      // USER before ISOLATION in FORWARD: inserted last so it ends up first.
      const missing = baseRules().filter((r) => !have.has(ruleKey(r)));
      const ops = missing.map((rule) => ({ op: opFor(rule), rule }));
      ops.sort((a, b) => Number(a.rule.spec.includes('BERTH-USER')) - Number(b.rule.spec.includes('BERTH-USER')));
      if (ops.length) await runTool('iptables-restore', ['-w', '--noflush'], restoreScript(ops));
    });
  }

  add(rules: readonly Rule[]): Promise<void> {
    if (!this.enabled || rules.length === 0) return Promise.resolve();
    return this.serial(() => runTool('iptables-restore', ['-w', '--noflush'], restoreScript(rules.map((rule) => ({ op: opFor(rule), rule }))))).then(() => {});
  }

  // Deletes what exists of `rules`; a rule already gone is not an error.
  delete(rules: readonly Rule[]): Promise<void> {
    if (!this.enabled || rules.length === 0) return Promise.resolve();
    return this.serial(async () => {
      try {
        await runTool('iptables-restore', ['-w', '--noflush'], restoreScript(rules.map((rule) => ({ op: '-D' as const, rule }))));
      } catch (err) {
        if (!(err instanceof ToolError)) throw err;
        // The batch is all-or-nothing per table; retry rule by rule, skipping the missing.
        for (const rule of rules) {
          await runTool('iptables-restore', ['-w', '--noflush'], restoreScript([{ op: '-D', rule }])).catch(() => {});
        }
      }
    });
  }

  // Make the rules naming these bridges exactly `desired`: adds what is missing, drops
  // what a crash or an old configuration left behind.
  reconcile(desired: readonly Rule[], bridges: ReadonlySet<string>): Promise<void> {
    if (!this.enabled) return Promise.resolve();
    return this.serial(async () => {
      const { add, del } = reconcile(await this.current(), desired, bridges);
      const ops = [...del.map((rule) => ({ op: '-D' as const, rule })), ...add.map((rule) => ({ op: opFor(rule), rule }))];
      if (ops.length) await runTool('iptables-restore', ['-w', '--noflush'], restoreScript(ops));
    });
  }
}
