import type { Readable } from 'node:stream';

// The JSON-message stream of pull, import, load, build and push: a sequence of
// JSON objects. Like Go's json.Decoder we accept them concatenated with or without
// newlines between them.

export interface JsonProgressDetail {
  current?: number;
  total?: number;
  start?: number;
  hidecounts?: boolean;
  units?: string;
}

export interface JsonMessage {
  stream?: string;
  status?: string;
  progressDetail?: JsonProgressDetail;
  progress?: string;
  id?: string;
  from?: string;
  time?: number;
  timeNano?: number;
  errorDetail?: { code?: number; message?: string };
  error?: string;
  aux?: unknown;
}

export class JsonStreamError extends Error {}

// Splits a byte stream into complete top-level JSON values.
export class JsonValueSplitter {
  private buf = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;
  private scanned = 0;

  push(text: string): string[] {
    this.buf += text;
    const out: string[] = [];
    for (let i = this.scanned; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (this.start < 0) {
        if (c === ' ' || c === '\n' || c === '\r' || c === '\t') continue;
        if (c !== '{' && c !== '[') throw new JsonStreamError(`invalid character '${c}' looking for beginning of value`);
        this.start = i;
      }
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
        continue;
      }
      if (c === '"') this.inString = true;
      else if (c === '{' || c === '[') this.depth++;
      else if (c === '}' || c === ']') {
        this.depth--;
        if (this.depth === 0) {
          out.push(this.buf.slice(this.start, i + 1));
          this.buf = this.buf.slice(i + 1);
          this.start = -1;
          i = -1;
        }
      }
    }
    this.scanned = this.buf.length;
    return out;
  }

  // True when only whitespace is left over.
  get idle(): boolean {
    return this.start < 0;
  }
}

export async function* readJsonMessages(stream: Readable): AsyncGenerator<JsonMessage> {
  const splitter = new JsonValueSplitter();
  stream.setEncoding('utf8');
  for await (const chunk of stream) {
    for (const text of splitter.push(chunk as string)) {
      yield JSON.parse(text) as JsonMessage;
    }
  }
  if (!splitter.idle) throw new JsonStreamError('unexpected EOF');
}
