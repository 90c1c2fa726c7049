// `modelgate serve`: run the server in the foreground until SIGTERM or SIGINT.
import type { Command } from 'commander';
import { ModelgateError } from '../../errors/index.js';
import { describeAdminKey, startServer } from '../../server.js';
import { rootOf } from '../connect.js';
import { configFrom } from '../main.js';

export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run Modelgate (control API; the data plane arrives with serving)')
    .option('--host <host>', 'address to listen on (default 127.0.0.1)')
    .option('--port <port>', 'port (default 8080; 0 picks a free one)')
    .option('--examples', 'register the example models when the registry is empty')
    .action(async (o: { host?: string; port?: string; examples?: boolean }, cmd: Command) => {
      const port = o.port === undefined ? undefined : Number(o.port);
      if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new ModelgateError('MG_ERR_CLI_USAGE', `--port takes 0 to 65535, got "${o.port}".`);
      const config = configFrom(rootOf(cmd), { server: { ...(o.host ? { host: o.host } : {}), ...(port !== undefined ? { port } : {}) } });
      const server = await startServer(config, { examples: Boolean(o.examples) });
      // A banner for the person who started it, on stderr so stdout stays pure JSON logs.
      process.stderr.write(`\nModelgate is running at ${server.url}\n  store: ${server.ctx.store.dialect} (${server.ctx.store.location})\n  ${describeAdminKey(config.home, server.adminKey)}\n  try:  curl -H "Authorization: Bearer $(cat ${config.home}/admin.key)" ${server.url}/api/v1/models\n\n`);
      const stop = (signal: string) => {
        server.ctx.logger.info({ signal }, 'shutting down');
        server.close().then(
          () => process.exit(0),
          (e: unknown) => {
            server.ctx.logger.error({ err: e }, 'shutdown failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
}
