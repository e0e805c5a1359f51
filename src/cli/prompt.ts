import type { CliContext } from './command.js';

// docker's prompt.Confirm: "<message> [y/N] " on stdout, one line from stdin, only
// "y"/"Y" (trimmed) means yes; EOF means no.
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.out(`${message || 'Are you sure you want to proceed?'} [y/N] `);
  const line = await readLine(ctx);
  return line.trim().toLowerCase() === 'y';
}

// prompt.ReadInput: the message on stdout, one line from stdin, trimmed. With silent (a
// password) on a terminal, nothing typed is echoed: the terminal is put in raw mode and
// only backspace and ^C/^D are interpreted.
export async function readInput(ctx: CliContext, message: string, opts: { silent?: boolean } = {}): Promise<string> {
  ctx.out(message);
  const stdin = ctx.io.stdin;
  if (opts.silent && stdin.isTTY && stdin.setRawMode) return (await readSilently(ctx)).trim();
  return (await readLine(ctx)).trim();
}

function readLine(ctx: CliContext): Promise<string> {
  const stdin = ctx.io.stdin;
  return new Promise<string>((resolve) => {
    let buf = '';
    const onData = (chunk: Buffer | string): void => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl).replace(/\r$/, ''));
    };
    const onEnd = (): void => done(buf);
    const done = (s: string): void => {
      stdin.off('data', onData);
      stdin.off('end', onEnd);
      stdin.pause();
      resolve(s);
    };
    stdin.on('data', onData);
    stdin.on('end', onEnd);
    stdin.resume();
  });
}

function readSilently(ctx: CliContext): Promise<string> {
  const stdin = ctx.io.stdin;
  stdin.setRawMode!(true);
  return new Promise<string>((resolve, reject) => {
    let buf = '';
    const finish = (): void => {
      stdin.off('data', onData);
      stdin.setRawMode!(false);
      stdin.pause();
    };
    const onData = (chunk: Buffer | string): void => {
      for (const ch of chunk.toString()) {
        if (ch === '\r' || ch === '\n') {
          finish();
          resolve(buf);
          return;
        }
        if (ch === '\x03' || ch === '\x04') {
          finish();
          reject(new Error(ch === '\x03' ? 'interrupted' : 'EOF'));
          return;
        }
        if (ch === '\x7f' || ch === '\b') buf = buf.slice(0, -1);
        else buf += ch;
      }
    };
    stdin.on('data', onData);
    stdin.resume();
  });
}
