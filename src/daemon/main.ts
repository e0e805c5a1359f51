import { Daemon } from './daemon.js';
import { loadDaemonConfig, USAGE } from './config.js';
import { ENGINE_VERSION } from './version.js';
import { errorMessage } from '../util/errors.js';

async function main(): Promise<void> {
  const config = await loadDaemonConfig(process.argv.slice(2));
  if (config === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (config === 'version') {
    process.stdout.write(`berthd version ${ENGINE_VERSION}\n`);
    return;
  }
  if (process.getuid?.() !== 0) throw new Error('berthd needs to be started as root');
  const daemon = new Daemon(config);
  await daemon.start();
  process.stderr.write(`berthd ${ENGINE_VERSION} listening on ${config.hosts.join(', ')} (data root ${config.dataRoot})\n`);
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    daemon.stop().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}

main().catch((err) => {
  process.stderr.write(`berthd: ${errorMessage(err)}\n`);
  process.exit(1);
});
