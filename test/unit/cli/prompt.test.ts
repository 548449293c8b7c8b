/**
 * The questions `verdict login` asks: on standard error (standard output is for results), the
 * answer read from standard input, a hidden answer never echoed, and a clear failure when
 * standard input ends before an answer. `--password-stdin` reads all of standard input.
 */
import { PassThrough, Readable } from 'node:stream';
import { readStdin, terminalPrompter } from '../../../cli/prompt';

describe('terminalPrompter', () => {
  const stdinDescriptor = Object.getOwnPropertyDescriptor(process, 'stdin');
  let stdin: PassThrough;
  let stderr: string[];
  let stdout: string[];
  beforeEach(() => {
    stdin = new PassThrough();
    Object.defineProperty(process, 'stdin', { value: stdin, configurable: true });
    stderr = [];
    stdout = [];
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      stderr.push(String(chunk));
      return true;
    });
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout.push(String(chunk));
      return true;
    });
  });
  afterEach(() => {
    jest.restoreAllMocks();
    if (stdinDescriptor) Object.defineProperty(process, 'stdin', stdinDescriptor);
  });

  it('asks on standard error and answers with the line typed', async () => {
    const answer = terminalPrompter.ask('E-mail: ');
    stdin.write('ann@acme.example\n');
    await expect(answer).resolves.toBe('ann@acme.example');
    expect(stderr.join('')).toBe('E-mail: ');
    expect(stdout).toEqual([]);
  });

  it('never shows a hidden answer, and ends the line after it', async () => {
    const answer = terminalPrompter.ask('Password: ', true);
    stdin.write('s3cret-pass\n');
    await expect(answer).resolves.toBe('s3cret-pass');
    expect(stderr.join('')).toBe('Password: \n');
    expect(stdout).toEqual([]);
  });

  it('asks one question after another, as verdict login does', async () => {
    const email = terminalPrompter.ask('E-mail: ');
    stdin.write('ann@acme.example\n');
    await expect(email).resolves.toBe('ann@acme.example');
    const password = terminalPrompter.ask('Password: ', true);
    stdin.write('s3cret-pass\n');
    await expect(password).resolves.toBe('s3cret-pass');
    expect(stderr.join('')).toBe('E-mail: Password: \n');
  });

  it('fails when standard input ends without an answer', async () => {
    const answer = terminalPrompter.ask('Authentication code: ');
    stdin.end();
    await expect(answer).rejects.toThrow('no answer: standard input ended');
  });
});

describe('readStdin', () => {
  it('reads everything, without the final line break', async () => {
    await expect(readStdin(Readable.from([Buffer.from('pass'), 'word\r\n']))).resolves.toBe(
      'password',
    );
    await expect(readStdin(Readable.from(['two\nlines\n']))).resolves.toBe('two\nlines');
    await expect(readStdin(Readable.from([' spaced \n\n']))).resolves.toBe(' spaced \n');
    await expect(readStdin(Readable.from([]))).resolves.toBe('');
  });
});
