// Executes a parsed template against JSON data, following text/template's
// exec.go: the same evaluation order, the same node recorded for errors, and the
// same messages (`template: :1:2: executing "" at <.Foo>: ...`).

import * as A from './ast.js';
import { TemplateError } from './errors.js';
import { formatValue, quote } from './fmt.js';
import type { GoFunc, ParamType } from './funcs.js';
import type { TreeSet } from './parser.js';
import { F64, Iface, byteLength, elementOf, goStructType, isGoMap, isInt, isMap, isTrue, mapKeysSorted, normInt, toAny, typeName, unbox, type Value } from './values.js';

export type MissingKey = 'default' | 'zero' | 'error';

export interface ExecContext {
  text: string;
  parseName: string;
  trees: TreeSet;
  missingKey: MissingKey;
  funcs: ReadonlyMap<string, GoFunc>;
}

// Go's missingVal: "no final value piped into this command".
const MISSING = Symbol('missing');
type Final = Value | typeof MISSING;

const BREAK = Symbol('break');
const CONTINUE = Symbol('continue');

// Go allows 100000 nested {{template}} calls; a JS stack overflows sooner, and
// that is reported with Go's message too.
const MAX_EXEC_DEPTH = 100000;

interface Variable {
  name: string;
  value: Value;
}

class State {
  node: A.Node | null = null;
  vars: Variable[];

  constructor(
    private readonly ctx: ExecContext,
    private readonly out: string[],
    private readonly tmplName: string,
    dot: Value,
    private readonly depth: number,
  ) {
    this.vars = [{ name: '$', value: dot }];
  }

  // ------------------------------------------------------------ errors

  at(node: A.Node): void {
    this.node = node;
  }

  errorf(msg: string): never {
    const name = quote(this.tmplName);
    if (!this.node) throw new TemplateError(`template: ${this.tmplName}: ${msg}`, 'exec');
    const text = this.ctx.text.slice(0, this.node.pos);
    const nl = text.lastIndexOf('\n');
    // Go counts the column in bytes from the line start (0-based).
    const col = byteLength(nl < 0 ? text : text.slice(nl + 1));
    const line = 1 + (text.match(/\n/g)?.length ?? 0);
    const loc = `${this.ctx.parseName}:${line}:${col}`;
    throw new TemplateError(`template: ${loc}: executing ${name} at <${A.nodeString(this.node)}>: ${msg}`, 'exec');
  }

  // ------------------------------------------------------------ variables

  private setVar(name: string, value: Value): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) {
        this.vars[i].value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): Value {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i].name === name) return this.vars[i].value;
    }
    this.errorf(`undefined variable: ${name}`);
  }

  // ------------------------------------------------------------ walk

  walk(dot: Value, node: A.Node): void {
    this.at(node);
    switch (node.type) {
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'if':
      case 'with':
        return this.walkIfOrWith(node, dot);
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'range':
        return this.walkRange(dot, node);
      case 'template':
        return this.walkTemplate(dot, node);
      case 'text':
        this.out.push(node.text);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      default:
        this.errorf(`unknown node: ${A.nodeString(node)}`);
    }
  }

  private walkIfOrWith(node: A.BranchNode, dot: Value): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) this.walk(node.type === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: Value, r: A.BranchNode): void {
    this.at(r);
    const outer = this.vars.length;
    try {
      const val = unbox(this.evalPipeline(dot, r.pipe));
      const mark = this.vars.length;
      const decls = r.pipe.decl.length;
      const decl = r.pipe.decl.map((d) => d.ident[0]);
      const oneIteration = (index: Value, elem: Value): void => {
        // {{range $i, $e := x}} declares (the top of the stack); Go 1.22's
        // {{range $i, $e = x}} assigns existing variables.
        if (r.pipe.isAssign) {
          if (decls > 0) this.setVar(decl[0], decls > 1 ? index : elem);
          if (decls > 1) this.setVar(decl[1], elem);
        } else {
          if (decls > 0) this.vars[this.vars.length - 1].value = elem;
          if (decls > 1) this.vars[this.vars.length - 2].value = index;
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = mark;
        }
      };
      if (Array.isArray(val)) {
        if (val.length > 0) {
          val.forEach((el, i) => oneIteration(i, elementOf(val, el)));
          return;
        }
      } else if (isMap(val)) {
        const keys = mapKeysSorted(val);
        if (keys.length > 0) {
          for (const k of keys) oneIteration(k, new Iface(val[k]));
          return;
        }
      } else if (isInt(val)) {
        // Go 1.22: range over an integer.
        if (decls > 1) this.errorf(`can't use ${formatValue(val)} to iterate over more than one variable`);
        if (val > 0) {
          for (let i = 0; i < Number(val); i++) oneIteration(undefined, i);
          return;
        }
      } else if (val !== undefined) {
        this.errorf(`range can't iterate over ${formatValue(val)}`);
      }
      if (r.elseList) this.walk(dot, r.elseList);
    } catch (e) {
      if (e !== BREAK) throw e;
    } finally {
      this.vars.length = outer;
    }
  }

  private walkTemplate(dot: Value, t: A.TemplateNode): void {
    this.at(t);
    const tree = this.ctx.trees.get(t.name);
    if (!tree) this.errorf(`template ${quote(t.name)} not defined`);
    if (this.depth >= MAX_EXEC_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const sub = new State(this.ctx, this.out, t.name, newDot, this.depth + 1);
    try {
      sub.walk(newDot, tree);
    } catch (e) {
      // No regular expression here: this may run with the stack exhausted.
      if (e instanceof RangeError && e.message.includes('call stack')) {
        this.at(t);
        this.errorf(`exceeded maximum template depth (${MAX_EXEC_DEPTH})`);
      }
      throw e;
    }
  }

  // ------------------------------------------------------------ evaluation

  private evalPipeline(dot: Value, pipe: A.PipeNode | null): Value {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      // An interface{} result is replaced by what it holds (a nil one by "no value").
      value = unbox(value);
    }
    for (const v of pipe.decl) {
      if (pipe.isAssign) this.setVar(v.ident[0], value);
      else this.vars.push({ name: v.ident[0], value });
    }
    return value;
  }

  private notAFunction(args: A.Node[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${A.nodeString(args[0])}`);
  }

  private evalCommand(dot: Value, cmd: A.CommandNode, final: Final): Value {
    const first = cmd.args[0];
    switch (first.type) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(first, cmd.args, final);
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.type) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
    }
    this.errorf(`can't evaluate command ${quote(A.nodeString(first))}`);
  }

  private idealConstant(n: A.NumberNode): Value {
    this.at(n);
    const hexInt = /^0[xX]/.test(n.text) && !/[pP]/.test(n.text);
    if (n.isFloat && !hexInt && n.text[0] !== "'" && /[.eEpP]/.test(n.text)) {
      return Number.isInteger(n.float) ? new F64(n.float) : n.float;
    }
    if (n.isInt) return normInt(n.int);
    if (n.isUint) this.errorf(`${n.text} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: Value, field: A.FieldNode, args: A.Node[] | null, final: Final): Value {
    this.at(field);
    return this.evalFieldChain(dot, field.ident, args, final);
  }

  private evalChainNode(dot: Value, chain: A.ChainNode, args: A.Node[] | null, final: Final): Value {
    this.at(chain);
    if (chain.field.length === 0) this.errorf('internal error: no fields in evalChainNode');
    if (chain.node.type === 'nil') this.errorf(`indirection through explicit nil in ${A.nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(pipe, chain.field, args, final);
  }

  private evalVariableNode(v: A.VariableNode, args: A.Node[] | null, final: Final): Value {
    this.at(v);
    const value = this.varValue(v.ident[0]);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(value, v.ident.slice(1), args, final);
  }

  private evalFieldChain(receiver: Value, ident: string[], args: A.Node[] | null, final: Final): Value {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(ident[i], null, MISSING, receiver);
    return this.evalField(ident[n - 1], args, final, receiver);
  }

  private evalField(fieldName: string, args: A.Node[] | null, final: Final, receiver: Value): Value {
    if (receiver === undefined) {
      if (this.ctx.missingKey === 'error') this.errorf(`nil data; no entry for key ${quote(fieldName)}`);
      return undefined;
    }
    const typ = typeName(receiver);
    let r: Value = receiver;
    if (r instanceof Iface) {
      if (r.v === null) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
      r = r.v;
    }
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    if (isMap(r)) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      if (Object.prototype.hasOwnProperty.call(r, fieldName)) return new Iface(r[fieldName]);
      const struct = goStructType(r);
      if (struct !== undefined) this.errorf(`can't evaluate field ${fieldName} in type ${struct}`);
      if (isGoMap(r)) return undefined;
      switch (this.ctx.missingKey) {
        case 'zero':
          return new Iface(null);
        case 'error':
          return this.errorf(`map has no entry for key ${quote(fieldName)}`);
        default:
          return undefined;
      }
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  private evalFunction(dot: Value, node: A.IdentifierNode, cmd: A.Node, args: A.Node[] | null, final: Final): Value {
    this.at(node);
    const name = node.ident;
    const fn = this.ctx.funcs.get(name);
    if (!fn) this.errorf(`${quote(name)} is not a defined function`);
    return this.evalCall(dot, fn, cmd, name, args, final);
  }

  private evalCall(dot: Value, fn: GoFunc, node: A.Node, name: string, argNodes: A.Node[] | null, final: Final): Value {
    const args = argNodes ? argNodes.slice(1) : [];
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    let numFixed = args.length;
    if (fn.variadic) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${fn.params.length} got ${args.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }
    if (name === 'and' || name === 'or') {
      // Short-circuit: the first falsy (and) or truthy (or) operand, else the last.
      let v: Value = undefined;
      for (const arg of args) {
        v = this.evalArg(dot, 'value', arg);
        if (isTrue(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: unknown[] = [];
    if (name === 'call') {
      // Go 1.22+: `call` reports errors with the callee's name.
      const first = args.length > 0 ? args[0] : undefined;
      argv.push(first ? A.nodeString(first) : typeof final === 'string' ? final : `<${typeName(final)} Value>`);
    }
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, fn.params[i], args[i]));
    if (fn.variadic) for (; i < args.length; i++) argv.push(this.evalArg(dot, fn.variadic, args[i]));
    if (final !== MISSING) {
      let t: ParamType = fn.params[fn.params.length - 1];
      if (fn.variadic) t = numIn - 1 < numFixed ? fn.params[numIn - 1] : fn.variadic;
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.call(argv);
    } catch (e) {
      if (e instanceof TemplateError) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  // Checks and converts a value for a Go parameter type (validateType).
  private validateType(value: Value, typ: ParamType | null): Value {
    if (value === undefined) {
      if (typ === null || typ === 'value') return undefined;
      if (typ === 'any') return null;
      this.errorf(`invalid value; expected ${typ}`);
    }
    if (typ === null || typ === 'value') return value;
    if (typ === 'any') return toAny(value);
    let v: Value = value;
    if (v instanceof Iface && v.v !== null) v = v.v;
    if (typ === 'string' && typeof v === 'string') return v;
    if (typ === 'int' && isInt(v)) return v;
    this.errorf(`wrong type for value; expected ${typ}; got ${typeName(v)}`);
  }

  private evalArg(dot: Value, typ: ParamType | null, n: A.Node): Value {
    this.at(n);
    switch (n.type) {
      case 'dot':
        return this.validateType(dot, typ);
      case 'nil':
        if (typ === 'value') return undefined;
        if (typ === 'any') return null;
        return this.errorf(`cannot assign nil to ${typ}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case 'variable':
        return this.validateType(this.evalVariableNode(n, null, MISSING), typ);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), typ);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    switch (typ) {
      case 'string':
        if (n.type === 'string') return n.text;
        return this.errorf(`expected string; found ${A.nodeString(n)}`);
      case 'int':
        if (n.type === 'number' && n.isInt) return normInt(n.int);
        return this.errorf(`expected integer; found ${A.nodeString(n)}`);
      default:
        if (n.type === 'bool') return n.value;
        if (n.type === 'number') return this.idealConstant(n);
        if (n.type === 'string') return n.text;
    }
    this.errorf(`can't handle assignment of ${A.nodeString(n)} to empty interface argument`);
  }

  private printValue(node: A.Node, v: Value): void {
    this.at(node);
    if (typeof v === 'function') this.errorf(`can't print ${A.nodeString(node)} of type ${typeName(v)}`);
    this.out.push(v === undefined ? '<no value>' : formatValue(v));
  }
}

export function execute(ctx: ExecContext, name: string, data: unknown): string {
  const tree = ctx.trees.get(name);
  // reflect.ValueOf(nil) is the invalid value: nil data prints "<no value>".
  const dot: Value = data === null || data === undefined ? undefined : data;
  const out: string[] = [];
  const state = new State(ctx, out, name, dot, 0);
  if (!tree) return state.errorf(`${quote(name)} is an incomplete or empty template`);
  state.walk(dot, tree);
  return out.join('');
}
