import { EventEmitter } from 'node:events';

// Docker's event message shape (GET /events). Every service emits through one bus;
// the API streams it and keeps a short history for --since.
export interface EngineEvent {
  Type: 'container' | 'image' | 'network' | 'volume' | 'daemon' | 'builder';
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  scope: 'local';
  time: number;
  timeNano: number;
  // Legacy fields docker-py and old clients still read.
  status?: string;
  id?: string;
  from?: string;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly history: EngineEvent[] = [];
  private static readonly keep = 1024;
  private lastNs = 0n;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  emit(type: EngineEvent['Type'], action: string, id: string, attributes: Record<string, string> = {}): void {
    // The sub-millisecond part comes from another clock, so two events in a row could go
    // back in time; clients order by timeNano (exec_create before exec_start, as emitted).
    // Steps of 1 µs: a Number this size only tells apart values 256 ns or more apart.
    let nowNs = BigInt(Date.now()) * 1_000_000n + process.hrtime.bigint() % 1_000_000n;
    if (nowNs < this.lastNs + 1000n) nowNs = this.lastNs + 1000n;
    this.lastNs = nowNs;
    const ev: EngineEvent = {
      Type: type,
      Action: action,
      Actor: { ID: id, Attributes: attributes },
      scope: 'local',
      time: Number(nowNs / 1_000_000_000n),
      timeNano: Number(nowNs),
    };
    if (type === 'container' || type === 'image') {
      ev.status = action;
      ev.id = id;
      if (attributes.image) ev.from = attributes.image;
    }
    this.history.push(ev);
    if (this.history.length > EventBus.keep) this.history.shift();
    this.emitter.emit('event', ev);
  }

  since(timeNano: number): EngineEvent[] {
    return this.history.filter((e) => e.timeNano >= timeNano);
  }

  subscribe(fn: (ev: EngineEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }
}
