import * as zlib from 'node:zlib';
import { TarError, readTarGz, safePath, writeTarGz } from '../../../../policies/bundle/tar';

const enc = new TextEncoder();

describe('bundle tar', () => {
  it('round-trips files, long paths included, with reproducible bytes', () => {
    const long = `${'deep/'.repeat(30)}policy.rego`;
    const entries = [
      { path: '.manifest', data: enc.encode('{"revision":"r1"}') },
      { path: 'policy.wasm', data: new Uint8Array([0, 97, 115, 109]) },
      { path: long, data: enc.encode('package deep') },
    ];
    const a = writeTarGz(entries);
    expect(writeTarGz(entries).equals(a)).toBe(true);
    const read = readTarGz(a);
    expect(read.map((e) => e.path)).toEqual(['.manifest', 'policy.wasm', long]);
    expect(Buffer.from(read[1]?.data ?? []).toString('hex')).toBe('0061736d');
  });

  it('refuses paths that leave the bundle', () => {
    expect(() => safePath('../x')).toThrow(TarError);
    expect(() => safePath('/a/../../b')).toThrow(/unsafe path/);
    expect(safePath('./a//b/./c')).toBe('a/b/c');
    expect(() => writeTarGz([{ path: 'a/../../etc/passwd', data: new Uint8Array() }])).toThrow(
      TarError,
    );
  });

  it('refuses corrupt or non-tar input with a reason', () => {
    expect(() =>
      readTarGz(enc.encode('not a tar at all, but long enough to have a header block'.repeat(20))),
    ).toThrow(/corrupt tar header/);
    expect(() => readTarGz(new Uint8Array([0x1f, 0x8b, 1, 2, 3]))).toThrow(
      /not a gzip-compressed tar/,
    );
    const good = zlib.gunzipSync(writeTarGz([{ path: 'a', data: enc.encode('x'.repeat(600)) }]));
    expect(() => readTarGz(good.subarray(0, 700))).toThrow(/truncated/);
  });
});
