import type { Readable } from 'node:stream';
import { readJsonMessages, type JsonMessage } from '../client/json-stream.js';
import type { TerminalOut } from './command.js';
import { progressString } from '../util/progress-bar.js';

export { progressString };

// Renders a pull/import/load progress stream as docker's jsonmessage package
// does: on a terminal each layer id keeps its own line, updated in place with
// cursor movements; otherwise progress bars are dropped and statuses are printed
// one per line.

export class JsonMessageError extends Error {
  constructor(
    message: string,
    readonly code?: number,
  ) {
    super(message);
    this.name = 'JsonMessageError';
  }
}

export interface DisplayOptions {
  isTerminal: boolean;
  // Terminal width for the progress bar (docker asks the terminal; 200 if unknown).
  width?: number;
  onAux?: (aux: unknown) => void;
}

function display(jm: JsonMessage, out: TerminalOut, opts: DisplayOptions, width: number): void {
  if (jm.errorDetail) throw new JsonMessageError(jm.errorDetail.message ?? '', jm.errorDetail.code);
  let endl = '';
  const progress = jm.progressDetail && Object.keys(jm.progressDetail).length > 0 ? jm.progressDetail : undefined;
  const hasProgress = jm.progressDetail !== undefined;
  if (opts.isTerminal && !jm.stream && hasProgress) {
    out.write('\x1b[2K\r');
    endl = '\r';
  } else if (hasProgress && progress && progressString(progress, width) !== '') {
    return; // no progress bars off a terminal
  }
  let line = '';
  if (jm.id) line += `${jm.id}: `;
  if (jm.from) line += `(from ${jm.from}) `;
  if (hasProgress && opts.isTerminal) line += `${jm.status ?? ''} ${progress ? progressString(progress, width) : ''}${endl}`;
  else if (jm.progress) line += `${jm.status ?? ''} ${jm.progress}${endl}`;
  else if (jm.stream) line += `${jm.stream}${endl}`;
  else line += `${jm.status ?? ''}${endl}\n`;
  out.write(line);
}

export async function displayJsonMessages(stream: Readable, out: TerminalOut, opts: DisplayOptions): Promise<void> {
  const width = opts.width ?? (opts.isTerminal && out.columns ? out.columns : 200);
  const ids = new Map<string, number>();
  for await (const jm of readJsonMessages(stream)) {
    // docker only legacy-errors on "error" without errorDetail too.
    if (jm.error && !jm.errorDetail) jm.errorDetail = { message: jm.error };
    if (jm.aux !== undefined && jm.aux !== null) {
      opts.onAux?.(jm.aux);
      continue;
    }
    let diff = 0;
    if (jm.id && (jm.progressDetail !== undefined || jm.progress)) {
      let line = ids.get(jm.id);
      if (line === undefined) {
        line = ids.size;
        ids.set(jm.id, line);
        if (opts.isTerminal) out.write('\n');
      }
      diff = ids.size - line;
      if (opts.isTerminal) out.write(`\x1b[${diff}A`);
    } else {
      ids.clear();
    }
    try {
      display(jm, out, opts, width);
    } finally {
      if (jm.id && opts.isTerminal) out.write(`\x1b[${diff}B`);
    }
  }
}
