import { appendFileSync } from 'node:fs';
import { CliServer } from '../../src/cli/server/server.js';

// A CLI server with a stand-in CLI, for what the real one never does on purpose: leave a
// timer behind after its call, or throw from an event handler.
//   node --import tsx test/integration/cli-server-fixture.ts <socket> <log>

const [socketPath, logPath] = process.argv.slice(2);
const server = new CliServer({
  socketPath: socketPath!,
  idleMs: 120_000,
  log: (line) => appendFileSync(logPath!, `${line}\n`),
  runCli: async (argv, io) => {
    switch (argv[0]) {
      case 'echo':
        io.stdout.write(`${argv.slice(1).join(' ')}\n`);
        return 0;
      case 'leak':
        setInterval(() => io.stdout.write('late\n'), 1000);
        io.stdout.write('leaving a timer\n');
        return 0;
      case 'throw':
        setImmediate(() => {
          throw new Error('boom from an event handler');
        });
        return new Promise<number>(() => undefined);
      default:
        return 2;
    }
  },
});
if (!(await server.listen())) process.exit(3);
