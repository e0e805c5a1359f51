import type { CommandSpec } from '../command.js';
import { noArgs } from '../command.js';
import { runCommand } from './run.js';
import { createCommand } from './create.js';
import { startCommand } from './start.js';
import { stopCommand } from './stop.js';
import { restartCommand } from './restart.js';
import { killCommand } from './kill.js';
import { rmCommand } from './rm.js';
import { waitCommand } from './wait.js';
import { psCommand, containerLsCommand } from './ps.js';
import { logsCommand } from './logs.js';
import { inspectCommand, containerInspectCommand, imageInspectCommand } from './inspect.js';
import { imagesCommand, imageLsCommand } from './images.js';
import { rmiCommand, imageRmCommand } from './rmi.js';
import { tagCommand, imageTagCommand } from './tag.js';
import { historyCommand } from './history.js';
import { importCommand } from './import.js';
import { pullCommand, imagePullCommand } from './pull.js';
import { pushCommand, imagePushCommand } from './push.js';
import { loginCommand } from './login.js';
import { logoutCommand } from './logout.js';
import { searchCommand } from './search.js';
import { bootstrapCommand } from './bootstrap.js';
import { containerPruneCommand, imagePruneCommand } from './prune.js';
import { versionCommand } from './version.js';
import { infoCommand } from './info.js';
import { pauseCommand, unpauseCommand } from './pause.js';
import { renameCommand } from './rename.js';
import { topCommand } from './top.js';
import { portCommand } from './port.js';
import { diffCommand } from './diff.js';
import { exportCommand } from './export.js';
import { commitCommand } from './commit.js';
import { attachCommand } from './attach.js';
import { execCommand } from './exec.js';
import { cpCommand } from './cp.js';
import { statsCommand } from './stats.js';
import { eventsCommand } from './events.js';
import { saveCommand } from './save.js';
import { loadCommand } from './load.js';
import { updateCommand } from './update.js';
import { dfCommand, systemPruneCommand } from './system.js';
import { volumeCommand } from './volume.js';
import { networkCommand } from './network.js';
import { buildCommand } from './build.js';
import { builderCommand } from './builder.js';
import { registryCommand } from './registry.js';

// The command tree: top-level commands, and the container/image/system management
// groups that hold the same commands under their long names.

const under = (c: CommandSpec, extra: Partial<CommandSpec> = {}): CommandSpec => ({ ...c, topCategory: undefined, ...extra });

const containerCommand: CommandSpec = {
  name: 'container',
  use: 'container',
  short: 'Manage containers',
  args: noArgs,
  subcommands: [
    under(attachCommand),
    under(commitCommand),
    under(cpCommand),
    under(createCommand),
    under(diffCommand),
    under(execCommand),
    under(exportCommand),
    under(killCommand),
    under(logsCommand),
    under(pauseCommand),
    under(portCommand),
    under(renameCommand),
    under(restartCommand),
    under(rmCommand, { aliases: ['remove'] }),
    under(runCommand),
    under(startCommand),
    under(statsCommand),
    under(stopCommand),
    under(topCommand),
    under(unpauseCommand),
    under(updateCommand),
    under(waitCommand),
    containerLsCommand,
    containerInspectCommand,
    containerPruneCommand,
  ],
};

const imageCommand: CommandSpec = {
  name: 'image',
  use: 'image',
  short: 'Manage images',
  args: noArgs,
  subcommands: [
    bootstrapCommand,
    under(buildCommand),
    under(historyCommand),
    under(importCommand),
    under(loadCommand),
    imagePullCommand,
    imagePushCommand,
    under(saveCommand),
    imageTagCommand,
    imageLsCommand,
    imageRmCommand,
    imageInspectCommand,
    imagePruneCommand,
  ],
};

const systemCommand: CommandSpec = {
  name: 'system',
  use: 'system',
  short: 'Manage Docker',
  args: noArgs,
  subcommands: [under(eventsCommand), under(infoCommand), dfCommand, systemPruneCommand],
};

export const rootCommands: CommandSpec[] = [
  runCommand,
  execCommand,
  psCommand,
  buildCommand,
  pullCommand,
  pushCommand,
  imagesCommand,
  loginCommand,
  logoutCommand,
  searchCommand,
  versionCommand,
  infoCommand,
  containerCommand,
  imageCommand,
  systemCommand,
  // docker's `builder` group: build under its long name, and prune.
  { ...builderCommand, subcommands: [under(buildCommand), ...(builderCommand.subcommands ?? [])] },
  networkCommand,
  volumeCommand,
  registryCommand,
  attachCommand,
  commitCommand,
  cpCommand,
  createCommand,
  diffCommand,
  eventsCommand,
  exportCommand,
  historyCommand,
  importCommand,
  loadCommand,
  inspectCommand,
  killCommand,
  logsCommand,
  pauseCommand,
  portCommand,
  renameCommand,
  restartCommand,
  rmCommand,
  rmiCommand,
  saveCommand,
  startCommand,
  statsCommand,
  stopCommand,
  tagCommand,
  topCommand,
  unpauseCommand,
  updateCommand,
  waitCommand,
];
