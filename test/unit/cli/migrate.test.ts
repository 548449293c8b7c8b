import { buildProgram } from '../../../cli/main';

describe('verdict migrate', () => {
  it('offers up, down (with --all), status and unlock', () => {
    const migrate = buildProgram().commands.find((c) => c.name() === 'migrate');
    expect(migrate?.commands.map((c) => c.name())).toEqual(['up', 'down', 'status', 'unlock']);
    const down = migrate?.commands.find((c) => c.name() === 'down');
    expect(down?.options.map((o) => o.long)).toEqual(['--all']);
  });
});
