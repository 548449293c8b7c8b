/**
 * `verdict serve`: runs the HTTP service until SIGTERM or SIGINT, then shuts down
 * gracefully. Configuration comes from the environment (see docs/operations.md);
 * `--port` overrides PORT.
 */
import type { Command } from 'commander';
import { loadConfig } from '../api/config';
import { start, stopOnSignals, type RunningServer } from '../api/server';

export interface ServeOptions {
  port?: string;
}

export async function serve(
  options: ServeOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningServer> {
  const config = loadConfig(options.port === undefined ? env : { ...env, PORT: options.port });
  const server = await start({ config });
  const removeSignalHandlers = stopOnSignals(server);
  return {
    ...server,
    stop: async () => {
      removeSignalHandlers();
      await server.stop();
    },
  };
}

export function register(program: Command): void {
  program
    .command('serve')
    .description(
      'run the decision and admin HTTP API (embedded database unless DATABASE_URL is set)',
    )
    .option('-p, --port <port>', 'port to listen on (overrides PORT)')
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict serve                                   # embedded Postgres, in-process cache, port 8181\n  $ DATABASE_URL=postgres://... REDIS_URL=redis://... verdict serve\n',
    )
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}
