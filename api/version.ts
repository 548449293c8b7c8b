/** The version of this Verdict installation, as its package.json says. */
import fs from 'node:fs';
import path from 'node:path';

let cached: string | undefined;

/** Reads the version once from the package.json above this file (source tree or dist/). */
export function verdictVersion(): string {
  if (cached !== undefined) return cached;
  let dir = __dirname;
  for (;;) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { version?: unknown };
      cached = typeof parsed.version === 'string' ? parsed.version : 'unknown';
      return cached;
    }
    const up = path.dirname(dir);
    if (up === dir) return 'unknown';
    dir = up;
  }
}
