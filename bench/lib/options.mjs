// Command-line options of the bench scripts: `--name value` pairs and `--flag`s.
import console from 'node:console';
import process from 'node:process';

const argv = process.argv.slice(2);

/** The arguments as given (for the command line a section quotes). */
export const args = argv;

/** The value after `--name`, or `fallback`. */
export function option(name, fallback) {
  const at = argv.indexOf(`--${name}`);
  return at >= 0 && argv[at + 1] !== undefined ? argv[at + 1] : fallback;
}

export function flag(name) {
  return argv.includes(`--${name}`);
}

/** `text` as a whole number of at least 1; stops the script with exit code 2 otherwise. */
export function positive(name, text) {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a whole number of at least 1 (got ${text})`);
    process.exit(2);
  }
  return value;
}
