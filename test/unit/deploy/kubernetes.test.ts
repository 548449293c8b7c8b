/**
 * The Kubernetes manifests (deploy/kubernetes) agree with the code and with each other: every
 * setting they name exists, secrets sit only in the Secret, the example Secret cannot start a
 * server, probes ask routes the app answers, ports and paths match the configuration, the
 * grace period outlasts the drain, and the pod runs as the image's non-root user with a
 * read-only root file system. No cluster is needed: the YAML is read as data.
 */
import fs from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import express from 'express';
import request from 'supertest';
import { parseAllDocuments } from 'yaml';
import { workerDrainLimitMs } from '../../../api/cluster/primary';
import { describeConfig, loadConfig } from '../../../api/config';
import { VerdictError } from '../../../api/errors';
import { healthRouter } from '../../../api/routes/health';
import { parseDataKeys } from '../../../api/services/identity/data-keys';

const root = path.resolve(__dirname, '..', '..', '..');
const folder = path.join(root, 'deploy', 'kubernetes');

type Doc = Record<string, unknown>;

/** Reads `value` at `keys` below `doc`, failing the test with the path when it is missing. */
function at(doc: unknown, ...keys: (string | number)[]): unknown {
  let value = doc;
  for (const [i, key] of keys.entries()) {
    if (typeof value !== 'object' || value === null || !(key in value)) {
      throw new Error(`missing ${keys.slice(0, i + 1).join('.')}`);
    }
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function readDocs(file: string): Doc[] {
  const docs = parseAllDocuments(fs.readFileSync(path.join(folder, file), 'utf8'));
  return docs.map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? ''}`);
    return doc.toJS() as Doc;
  });
}

const kustomization = readDocs('kustomization.yaml')[0] as Doc;
const resources = (at(kustomization, 'resources') as string[]).flatMap(readDocs);

function one(kind: string): Doc {
  const found = resources.filter((doc) => doc.kind === kind);
  expect(found).toHaveLength(1);
  return found[0] as Doc;
}

const configMap = one('ConfigMap');
const secret = one('Secret');
const deployment = one('Deployment');
const service = one('Service');
const hpa = one('HorizontalPodAutoscaler');
const pdb = one('PodDisruptionBudget');
const pod = at(deployment, 'spec', 'template') as Doc;
const containers = at(pod, 'spec', 'containers') as Doc[];
const container = containers[0] as Doc;
const settingsData = at(configMap, 'data') as Record<string, string>;
const secretData = at(secret, 'stringData') as Record<string, string>;

/** Secret values as an operator makes them: the shape each setting asks for. */
const realSecrets: Record<string, string> = {
  DATABASE_URL: 'postgres://verdict:db-password-1234@db.internal:5432/verdict?sslmode=verify-full',
  REDIS_URL: 'rediss://:redis-password-5678@cache.internal:6379/0',
  VERDICT_ADMIN_TOKEN: 'a'.repeat(32),
  VERDICT_DATA_KEYS: JSON.stringify({ k1: Buffer.alloc(32, 1).toString('base64') }),
  VERDICT_BLIND_INDEX_KEY: Buffer.alloc(32, 2).toString('base64'),
};

/** Whether loadConfig reads `name`: a nonsense value is refused naming it, or changes the result. */
function isSetting(name: string): boolean {
  try {
    return !isDeepStrictEqual(loadConfig({ [name]: '\u0000 nonsense' }), loadConfig({}));
  } catch (err) {
    const problems = (err as VerdictError).extensions.problems as string[];
    return problems.some((line) => line.startsWith(`${name}=`));
  }
}

/** The configuration as the start-up log line shows it, secrets masked. */
function logged(env: Record<string, string>): string {
  return JSON.stringify(describeConfig(loadConfig(env)));
}

/** What must never be shown of a secret value: a URL's password, or the whole value. */
function secretPart(value: string): string {
  return /^[a-z]+:\/\//.test(value) ? new URL(value).password : value;
}

describe('deploy/kubernetes', () => {
  it('lists every manifest of the folder in kustomization.yaml, none tied to a namespace', () => {
    const files = fs
      .readdirSync(folder)
      .filter((name) => name.endsWith('.yaml') && name !== 'kustomization.yaml');
    expect([...(at(kustomization, 'resources') as string[])].sort()).toEqual(files.sort());
    expect(resources.map((doc) => doc.kind).sort()).toEqual([
      'ConfigMap',
      'Deployment',
      'HorizontalPodAutoscaler',
      'PodDisruptionBudget',
      'Secret',
      'Service',
    ]);
    for (const doc of [kustomization, ...resources]) {
      expect(doc).not.toHaveProperty('namespace');
      expect(doc).not.toHaveProperty(['metadata', 'namespace']);
    }
  });

  it('names only real settings, and secret ones only in the Secret', () => {
    for (const name of [...Object.keys(settingsData), ...Object.keys(secretData)]) {
      expect({ name, read: isSetting(name) }).toEqual({ name, read: true });
    }
    // The Secret holds what Verdict never shows (URLs: their passwords)...
    const shown = logged({ ...settingsData, ...realSecrets });
    for (const [name, value] of Object.entries(realSecrets)) {
      expect({ name, shown: shown.includes(secretPart(value)) }).toEqual({ name, shown: false });
    }
    // ...and the ConfigMap what it shows.
    const plain = logged(settingsData);
    for (const [name, value] of Object.entries(settingsData)) {
      expect({ name, shown: plain.includes(value) }).toEqual({ name, shown: true });
    }
    // The pod gets its environment from these two only.
    expect(at(container, 'envFrom')).toEqual([
      { configMapRef: { name: at(configMap, 'metadata', 'name') } },
      { secretRef: { name: at(secret, 'metadata', 'name') } },
    ]);
    expect(container).not.toHaveProperty('env');
  });

  it('gives every pod the same keys, so none generates its own', () => {
    for (const name of ['VERDICT_DATA_KEYS', 'VERDICT_BLIND_INDEX_KEY']) {
      expect(Object.keys(secretData)).toContain(name);
    }
    expect(Object.keys(settingsData)).toContain('VERDICT_DATA_KEY_ID');
  });

  it('has an example Secret that Verdict refuses to start with', () => {
    let problems: unknown[] = [];
    try {
      loadConfig({ ...settingsData, ...secretData });
    } catch (err) {
      expect(err).toBeInstanceOf(VerdictError);
      problems = (err as VerdictError).extensions.problems as unknown[];
    }
    const refused = problems.map((line) => String(line).split('=')[0]);
    expect(refused.sort()).toEqual(['DATABASE_URL', 'REDIS_URL', 'VERDICT_ADMIN_TOKEN'].sort());
    // The data keys pass the schema but not the key parser the identity service runs at start.
    const keyId = settingsData.VERDICT_DATA_KEY_ID;
    expect(() =>
      parseDataKeys(secretData.VERDICT_DATA_KEYS ?? '', keyId, realSecrets.VERDICT_BLIND_INDEX_KEY),
    ).toThrow(/VERDICT_DATA_KEYS/);
    expect(() =>
      parseDataKeys(realSecrets.VERDICT_DATA_KEYS ?? '', keyId, secretData.VERDICT_BLIND_INDEX_KEY),
    ).toThrow(/VERDICT_BLIND_INDEX_KEY/);
    expect(Object.keys(secretData).sort()).toEqual(Object.keys(realSecrets).sort());
  });

  describe('with real secrets in place', () => {
    const config = loadConfig({ ...settingsData, ...realSecrets });

    it('loads, and the data keys parse', () => {
      expect(config.databaseUrl).toBe(realSecrets.DATABASE_URL);
      expect(() =>
        parseDataKeys(config.dataKeys ?? '', config.dataKeyId, config.blindIndexKey),
      ).not.toThrow();
    });

    it('listens on the container port the Service and the probes use', () => {
      const ports = at(container, 'ports') as Doc[];
      expect(ports).toEqual([{ name: 'http', containerPort: config.port, protocol: 'TCP' }]);
      expect(at(service, 'spec', 'ports')).toEqual([
        expect.objectContaining({ targetPort: 'http' }),
      ]);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        expect(at(container, probe, 'httpGet', 'port')).toBe('http');
      }
      expect(at(pod, 'metadata', 'annotations', 'prometheus.io/port')).toBe(String(config.port));
      expect(at(pod, 'metadata', 'annotations', 'prometheus.io/path')).toBe('/metrics');
      expect(at(pod, 'metadata', 'annotations', 'prometheus.io/scrape')).toBe('true');
    });

    it('outlasts the drain with its grace period: shutdown delay, timeout and margin', () => {
      expect(config.shutdownDelayMs).toBeGreaterThan(0);
      const graceMs = (at(pod, 'spec', 'terminationGracePeriodSeconds') as number) * 1000;
      expect(graceMs).toBeGreaterThan(workerDrainLimitMs(config));
    });

    it('runs a set number of workers, within the CPU limit', () => {
      expect(config.workers).not.toBe('auto');
      const cpuLimit = String(at(container, 'resources', 'limits', 'cpu'));
      const cores = cpuLimit.endsWith('m')
        ? Number(cpuLimit.slice(0, -1)) / 1000
        : Number(cpuLimit);
      expect(config.workers).toBeLessThanOrEqual(Math.max(1, cores));
    });

    it('keeps its data folder on a volume of the pod, the only place it writes', () => {
      expect(at(container, 'securityContext', 'readOnlyRootFilesystem')).toBe(true);
      const mounts = at(container, 'volumeMounts') as Doc[];
      const dataMount = mounts.find((mount) => mount.mountPath === config.dataDir);
      expect(dataMount).toBeDefined();
      const volumes = at(pod, 'spec', 'volumes') as Doc[];
      const volume = volumes.find((v) => v.name === dataMount?.name);
      expect(volume).toHaveProperty('emptyDir');
    });
  });

  it('probes routes the app answers', async () => {
    const app = express().use(healthRouter({ checks: [], isShuttingDown: () => false }));
    const paths = ['startupProbe', 'readinessProbe', 'livenessProbe'].map(
      (probe) => at(container, probe, 'httpGet', 'path') as string,
    );
    expect(paths).toEqual(['/health/live', '/health/ready', '/health/live']);
    for (const probePath of paths) await request(app).get(probePath).expect(200);
    // Readiness takes the checks' own 3 s timeout into account.
    expect(at(container, 'readinessProbe', 'timeoutSeconds')).toBeGreaterThan(3);
  });

  it('rolls one new pod at a time and never drops below the count', () => {
    expect(at(deployment, 'spec', 'strategy')).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxUnavailable: 0, maxSurge: 1 },
    });
    // The autoscaler owns the count; a replicas field would reset it at each apply.
    expect(deployment).not.toHaveProperty(['spec', 'replicas']);
    expect(at(hpa, 'apiVersion')).toBe('autoscaling/v2');
    expect(at(hpa, 'spec', 'scaleTargetRef')).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: at(deployment, 'metadata', 'name'),
    });
    expect(at(hpa, 'spec', 'minReplicas')).toBeGreaterThanOrEqual(2);
    expect(at(hpa, 'spec', 'metrics', 0, 'resource', 'name')).toBe('cpu');
    // Utilization is measured against the request.
    expect(at(container, 'resources', 'requests', 'cpu')).toBeDefined();
    expect(at(container, 'resources', 'limits', 'memory')).toBeDefined();
    expect(at(pdb, 'spec', 'maxUnavailable')).toBe(1);
  });

  it('selects the pods of the Deployment everywhere', () => {
    const labels = at(pod, 'metadata', 'labels');
    expect(at(deployment, 'spec', 'selector', 'matchLabels')).toEqual(labels);
    expect(at(service, 'spec', 'selector')).toEqual(labels);
    expect(at(pdb, 'spec', 'selector', 'matchLabels')).toEqual(labels);
  });

  it('runs as the image user, non-root, with no privileges and the default seccomp profile', () => {
    const dockerfile = fs.readFileSync(path.join(root, 'deploy', 'Dockerfile'), 'utf8');
    const users = [...dockerfile.matchAll(/^USER\s+(\d+):(\d+)\s*$/gm)];
    expect(users).toHaveLength(1);
    const [, uid, gid] = users[0] as RegExpMatchArray;
    expect(Number(uid)).toBeGreaterThan(0);
    expect(at(pod, 'spec', 'securityContext')).toMatchObject({
      runAsNonRoot: true,
      runAsUser: Number(uid),
      runAsGroup: Number(gid),
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(at(container, 'securityContext')).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
    expect(at(pod, 'spec', 'automountServiceAccountToken')).toBe(false);
  });
});
