// The `modelgate` command line. Usage mistakes exit 2, failed operations exit 1 with `error <code>: <message>`
// on stderr (never a stack trace), `audit verify` exits 3 when the chain is broken.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { loadConfig, type Config, type DeepPartial } from '../config/index.js';
import { ModelgateError } from '../errors/index.js';
import { packagePath } from '../paths.js';
import { registerApplyCommands } from './commands/apply.js';
import { registerAuditCommands } from './commands/audit.js';
import { registerDriftCommands } from './commands/drift.js';
import { registerMonitoringCommands } from './commands/monitoring.js';
import { registerSloCommands } from './commands/slo.js';
import { registerAlertCommands } from './commands/alerts.js';
import { registerIncidentCommands } from './commands/incidents.js';
import { registerReviewCommands } from './commands/reviews.js';
import { registerDeploymentCommands } from './commands/deployments.js';
import { registerFreezeCommands } from './commands/freeze.js';
import { registerHistoryCommand } from './commands/history.js';
import { registerKeyCommands } from './commands/keys.js';
import { registerModelCommands } from './commands/models.js';
import { registerRolloutCommands } from './commands/rollout.js';
import { registerServeCommand } from './commands/serve.js';

export interface GlobalOptions {
  url?: string;
  key?: string;
  home?: string;
  config?: string;
  databaseUrl?: string;
}

export function buildProgram(): Command {
  const version = (JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version;
  const program = new Command('modelgate')
    .description('Modelgate: register, serve, roll out and monitor ML models.')
    .version(version)
    .addOption(new Option('--url <url>', 'control API of a running server (else: work on the local store)').env('MODELGATE_URL'))
    .addOption(new Option('--key <key>', 'API key (default: $MODELGATE_HOME/admin.key)').env('MODELGATE_KEY'))
    .option('--home <dir>', 'MODELGATE_HOME: the SQLite database and artifacts (default ./.modelgate)')
    .option('--config <file>', 'configuration file (default ./modelgate.yaml when present)')
    .option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (str, write) => write(str) });
  registerServeCommand(program);
  registerModelCommands(program);
  registerApplyCommands(program);
  registerDeploymentCommands(program);
  registerRolloutCommands(program);
  registerHistoryCommand(program);
  registerFreezeCommands(program);
  registerKeyCommands(program);
  registerAuditCommands(program);
  registerDriftCommands(program);
  registerMonitoringCommands(program);
  registerSloCommands(program);
  registerAlertCommands(program);
  registerIncidentCommands(program);
  registerReviewCommands(program);
  return program;
}

/** The configuration for this invocation: defaults < file < env < global flags. */
export function configFrom(program: Command, flags: DeepPartial<Config> = {}): Readonly<Config> {
  const g = program.opts<GlobalOptions>();
  return loadConfig({
    file: g.config,
    flags: { ...flags, ...(g.home ? { home: g.home } : {}), ...(g.databaseUrl ? { databaseUrl: g.databaseUrl } : {}) },
  });
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    return reportError(e);
  }
}

export function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    // help and version exit 0; everything else commander rejects is a usage error
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return 2;
  }
  if (e instanceof ModelgateError) {
    process.stderr.write(`error ${e.code}: ${e.message}\n`);
    return e.code === 'MG_ERR_CLI_USAGE' ? 2 : 1;
  }
  const err = e as Error;
  process.stderr.write(`error MG_ERR_SERVER_INTERNAL: ${err?.message ?? String(e)}\n`);
  if (process.env.MODELGATE_DEBUG) process.stderr.write(`${err?.stack ?? ''}\n`);
  return 1;
}
