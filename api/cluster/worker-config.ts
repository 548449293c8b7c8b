/**
 * The primary hands its workers the configuration it loaded, whole, in one environment
 * variable: every worker runs with exactly the primary's settings (the port `--port` chose
 * included), whatever else the environment holds.
 */
import type { Config } from '../config';

export const clusterConfigVariable = 'VERDICT_CLUSTER_CONFIG';

export function readClusterConfig(env: NodeJS.ProcessEnv): Config {
  const text = env[clusterConfigVariable];
  if (text === undefined)
    throw new Error(`${clusterConfigVariable} is not set: not a Verdict worker`);
  const config: unknown = JSON.parse(text);
  if (typeof config !== 'object' || config === null || !('port' in config)) {
    throw new Error(`${clusterConfigVariable} does not hold a configuration`);
  }
  // Written by the primary from a validated Config (JSON drops only undefined members).
  return config as Config;
}
