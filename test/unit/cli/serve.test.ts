import { buildProgram } from '../../../cli/main';
import { serve } from '../../../cli/serve';

describe('verdict serve', () => {
  it('is registered with --port and --workers overrides', () => {
    const command = buildProgram().commands.find((c) => c.name() === 'serve');
    expect(command?.options.map((o) => o.long)).toEqual(['--port', '--workers']);
  });

  it('rejects a bad --port before opening anything', async () => {
    await expect(serve({ port: 'not-a-port' }, {})).rejects.toMatchObject({
      code: 'config_invalid',
      message: expect.stringContaining('PORT="not-a-port"') as unknown,
    });
  });
});
