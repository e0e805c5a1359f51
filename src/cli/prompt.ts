import type { CliContext } from './command.js';

// docker's prompt.Confirm: "<message> [y/N] " on stdout, one line from stdin, only
// "y"/"Y" (trimmed) means yes; EOF means no.
export async function confirm(ctx: CliContext, message: string): Promise<boolean> {
  ctx.out(`${message || 'Are you sure you want to proceed?'} [y/N] `);
  const stdin = ctx.io.stdin;
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const onData = (chunk: Buffer | string): void => {
      buf += chunk.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) done(buf.slice(0, nl));
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
  return line.trim().toLowerCase() === 'y';
}
