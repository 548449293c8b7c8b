/**
 * The image (deploy/Dockerfile) holds what the server reads at run time and nothing of the
 * build: compiled code, production dependencies, and the folders the code finds next to
 * package.json. The image cannot be built here (no base image registry), so this reads the
 * Dockerfile and its ignore file as text.
 */
import fs from 'node:fs';
import path from 'node:path';
import { platformPolicyDir } from '../../../api/auth/platform-policy';

const root = path.resolve(__dirname, '..', '..', '..');
const dockerfile = fs.readFileSync(path.join(root, 'deploy', 'Dockerfile'), 'utf8');
const ignored = fs
  .readFileSync(path.join(root, 'deploy', 'Dockerfile.dockerignore'), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

/** The instructions of the last stage (the image that runs). */
const runStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

/** What the run stage copies from the build stage, relative to /app. */
const copies = [...runStage.matchAll(/^COPY --from=build \/app\/(\S+) \.\/(\S*)$/gm)].map(
  ([, from = '', to = '']) => ({ from, to }),
);
const copied = copies.map((copy) => copy.from);

describe('deploy/Dockerfile', () => {
  it('builds, then keeps only production dependencies', () => {
    expect(dockerfile).toMatch(/^RUN npm run build && npm prune --omit=dev\b/m);
    expect(runStage).not.toMatch(/npm (ci|install)/);
  });

  it('copies what the server reads at run time to the same place, and no sources', () => {
    for (const { from, to } of copies) expect(to === '' ? from : to).toBe(from);
    const policy = path.relative(root, platformPolicyDir());
    // The console's files and the WASM runtime are built into dist/ (package.json's build).
    expect(copied.sort()).toEqual(
      ['package.json', 'node_modules', 'dist', 'bin', policy, 'examples'].sort(),
    );
    for (const folder of copied.filter((name) => name !== 'dist' && name !== 'node_modules')) {
      expect(fs.existsSync(path.join(root, folder))).toBe(true);
    }
  });

  it('keeps out of the build context nothing the build needs', () => {
    const needed = [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'api',
      'cli',
      'policies',
      'migrations',
      'scripts',
      'bin',
      'examples',
    ];
    for (const name of needed) expect(ignored).not.toContain(name);
    for (const name of ['node_modules', 'dist', '.git']) expect(ignored).toContain(name);
  });

  it('runs as a numeric non-root user and keeps its data folder in /data', () => {
    expect(runStage).toMatch(/^USER [1-9]\d*:[1-9]\d*$/m);
    expect(runStage).toMatch(/VERDICT_DATA_DIR=\/data\b/);
    expect(runStage).toMatch(/^EXPOSE 8181$/m);
    expect(runStage).toMatch(/PORT=8181\b/);
    expect(runStage).toMatch(/^CMD \["node", "bin\/verdict\.js", "serve"\]$/m);
  });
});
