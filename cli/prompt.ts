/**
 * Questions the CLI asks a person at the terminal: e-mail, password (not echoed), a one-time
 * code. Commands take a `Prompter`, so tests answer without a terminal.
 */
import readline from 'node:readline';
import { Writable } from 'node:stream';

export interface Prompter {
  /** The answer to `question`; with `hidden`, typed characters are not shown. */
  ask(question: string, hidden?: boolean): Promise<string>;
}

/** Asks on the terminal: the question on stderr (stdout stays for results), the answer from stdin. */
export const terminalPrompter: Prompter = {
  ask(question, hidden = false) {
    let muted = false;
    const output = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        if (!muted) process.stderr.write(chunk);
        callback();
      },
    });
    const rl = readline.createInterface({
      input: process.stdin,
      output,
      terminal: process.stdin.isTTY,
    });
    return new Promise((resolve, reject) => {
      rl.question(question, (answer) => {
        if (hidden) process.stderr.write('\n');
        // Settle before closing: closing emits 'close', whose handler rejects.
        resolve(answer);
        rl.close();
      });
      muted = hidden;
      rl.once('close', () => {
        reject(new Error('no answer: standard input ended'));
      });
    });
  },
};

/** All of standard input as text, without the final line break (`--password-stdin`). */
export async function readStdin(stream: NodeJS.ReadableStream = process.stdin): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  }
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}
