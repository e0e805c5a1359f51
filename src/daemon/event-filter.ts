import type { EngineEvent } from './events.js';
import { familiarName, parseNormalizedNamed } from '../image/reference.js';

// GET /events filters, as moby's daemon/events/filter.go applies them: every key must
// hold (AND), any value of one key may (OR). Names match by prefix and are not tied to
// the event's type (container=web also matches web_1, and a network named web), labels
// all have to match, image names match with or without their tag.
export type EventFilters = Record<string, string[]>;

// Bare names of these actions carry a suffix (health_status: healthy, exec_start: sh).
const fuzzyActions = new Set(['health_status', 'exec_create', 'exec_start']);

const exact = (values: string[] | undefined, source: string): boolean => !values?.length || values.includes(source);
const fuzzy = (values: string[] | undefined, source: string): boolean =>
  !values?.length || values.some((v) => source.startsWith(v));

function byName(f: EventFilters, key: string, ev: EngineEvent): boolean {
  return fuzzy(f[key], ev.Actor.ID) || fuzzy(f[key], ev.Actor.Attributes.name ?? '');
}

function stripTag(image: string): string {
  try {
    return familiarName(parseNormalizedNamed(image));
  } catch {
    return image;
  }
}

function byImage(f: EventFilters, ev: EngineEvent): boolean {
  const values = f.image;
  if (!values?.length) return true;
  const name = ev.Actor.Attributes[ev.Type === 'image' ? 'name' : 'image'] ?? '';
  return [ev.Actor.ID, name, stripTag(ev.Actor.ID), stripTag(name)].some((s) => values.includes(s));
}

function byLabels(f: EventFilters, attrs: Record<string, string>): boolean {
  return (f.label ?? []).every((v) => {
    const eq = v.indexOf('=');
    const key = eq < 0 ? v : v.slice(0, eq);
    if (!(key in attrs)) return false;
    return eq < 0 || attrs[key] === v.slice(eq + 1);
  });
}

export function eventMatches(ev: EngineEvent, f: EventFilters): boolean {
  const events = f.event ?? [];
  const actionOk = events.some((v) => fuzzyActions.has(v)) ? fuzzy(events, ev.Action) : exact(events, ev.Action);
  return (
    actionOk &&
    exact(f.type, ev.Type) &&
    exact(f.scope, ev.scope) &&
    byName(f, 'daemon', ev) &&
    byName(f, 'container', ev) &&
    byName(f, 'plugin', ev) &&
    byName(f, 'volume', ev) &&
    byName(f, 'network', ev) &&
    byImage(f, ev) &&
    // Swarm objects never happen here: a filter on them matches nothing.
    ['node', 'service', 'secret', 'config'].every((k) => !f[k]?.length) &&
    byLabels(f, ev.Actor.Attributes)
  );
}
