/**
 * `verdict serve`: runs the HTTP service until SIGTERM or SIGINT, then shuts down
 * gracefully. Configuration comes from the environment (see docs/operations.md);
 * `--port` overrides PORT and `--workers` VERDICT_WORKERS. With more than one worker the
 * process becomes the primary of a cluster (api/cluster/primary.ts).
 */
import type { Command } from 'commander';
import { startPrimary, workerCount } from '../api/cluster/primary';
import { loadConfig } from '../api/config';
import { createLogger } from '../api/logger';
import { start, stopOnSignals, type RunningServer } from '../api/server';

export interface ServeOptions {
  port?: string;
  workers?: string;
}

/** What `serve` returns, one process or a cluster. */
export type RunningService = Pick<RunningServer, 'logger' | 'url' | 'port' | 'stop'> & {
  readonly workers: number;
};

export async function serve(
  options: ServeOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService> {
  const config = loadConfig({
    ...env,
    ...(options.port === undefined ? {} : { PORT: options.port }),
    ...(options.workers === undefined ? {} : { VERDICT_WORKERS: options.workers }),
  });
  const workers = workerCount(config);
  const service: RunningService =
    workers > 1
      ? await startPrimary({ config, workers, logger: createLogger({ level: config.logLevel }) })
      : { ...(await start({ config })), workers: 1 };
  const removeSignalHandlers = stopOnSignals(service);
  return {
    ...service,
    stop: async () => {
      removeSignalHandlers();
      await service.stop();
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
    .option(
      '-w, --workers <n>',
      'HTTP worker processes, or auto: one per core with DATABASE_URL and REDIS_URL set, else 1 (overrides VERDICT_WORKERS)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ verdict serve                                   # embedded Postgres, in-process cache, port 8181\n  $ DATABASE_URL=postgres://... REDIS_URL=redis://... verdict serve   # one worker per core\n  $ DATABASE_URL=postgres://... REDIS_URL=redis://... verdict serve --workers 4\n',
    )
    .action(async (opts: ServeOptions) => {
      await serve(opts);
    });
}
