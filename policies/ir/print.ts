/** Human-readable listing of an IR policy (`verdict build --ir`), one statement per line. */
import type { Block, ConstJSON, Operand, Policy, Stmt } from './types';

/** The listing of `policy`: its plans, then its functions, one statement per line. */
export function printPolicy(policy: Policy): string {
  const lines: string[] = [];
  const op = (o: Operand): string =>
    'local' in o ? `l${o.local}` : constText(policy.consts[o.const] ?? null);
  const block = (b: Block, indent: string): void => {
    for (const s of b.stmts) stmt(s, indent);
  };
  const nested = (head: string, b: Block, indent: string): void => {
    lines.push(`${indent}${head} {`);
    block(b, indent + '  ');
    lines.push(`${indent}}`);
  };
  const stmt = (s: Stmt, indent: string): void => {
    switch (s.op) {
      case 'scan':
        nested(`scan ${op(s.src)} as l${s.key}, l${s.value}`, s.block, indent);
        return;
      case 'callRelation':
        nested(`l${s.dst} in ${s.func}(${s.args.map(op).join(', ')})`, s.block, indent);
        return;
      case 'not':
        nested('not', s.block, indent);
        return;
      case 'blocks':
        for (const b of s.blocks) nested('block', b, indent);
        return;
      case 'or':
        s.blocks.forEach((b, i) => {
          nested(i === 0 ? 'either' : 'or', b, indent);
        });
        return;
      case 'with':
        nested(
          `with ${s.target}${s.path.map((p) => `[${op(p)}]`).join('')} = ${op(s.value)}`,
          s.block,
          indent,
        );
        return;
      case 'withFunction': {
        const r = 'func' in s.replacement ? s.replacement.func : op(s.replacement.value);
        nested(`with ${s.func} = ${r}`, s.block, indent);
        return;
      }
      default:
        lines.push(indent + simple(s, op));
    }
  };
  policy.plans.forEach((p) => {
    lines.push(`plan ${p.name} (${p.vars.join(', ')}) locals=${p.locals}`);
    block(p.block, '  ');
  });
  for (const f of policy.funcs) {
    lines.push(
      `func ${f.name} arity=${f.arity} result=l${f.result} locals=${f.locals}${f.memo ? ' memo' : ''}`,
    );
    block(f.block, '  ');
  }
  return lines.join('\n') + '\n';
}

function simple(s: Stmt, op: (o: Operand) => string): string {
  switch (s.op) {
    case 'assign':
      return `l${s.dst} = ${op(s.src)}`;
    case 'assignOnce':
      return `l${s.dst} =once ${op(s.src)}`;
    case 'reset':
      return `reset l${s.dst}`;
    case 'dot':
      return `l${s.dst} = ${op(s.src)}[${op(s.key)}]`;
    case 'equal':
      return `${op(s.a)} == ${op(s.b)}`;
    case 'truthy':
      return `truthy ${op(s.src)}`;
    case 'isDefined':
      return `defined l${s.src}`;
    case 'isUndefined':
      return `undefined l${s.src}`;
    case 'isType':
      return `is_${s.type} ${op(s.src)}`;
    case 'len':
      return `l${s.dst} = len ${op(s.src)}`;
    case 'call':
      return `l${s.dst} = ${s.func}(${s.args.map(op).join(', ')})`;
    case 'makeArray':
      return `l${s.dst} = []`;
    case 'makeObject':
      return `l${s.dst} = {}`;
    case 'makeSet':
      return `l${s.dst} = set()`;
    case 'arrayAppend':
      return `append l${s.array}, ${op(s.value)}`;
    case 'setAdd':
      return `add l${s.set}, ${op(s.value)}`;
    case 'objectInsert':
      return `l${s.obj}[${op(s.key)}] ${s.conflict ? '=once' : '='} ${op(s.value)}`;
    case 'objectInsertPath':
      return `l${s.obj}${s.path.map((p) => `[${op(p)}]`).join('')} ${s.leafSet ? 'contains' : '=once'} ${op(s.value)}`;
    case 'objectMerge':
      return `merge l${s.dst}, ${op(s.src)}`;
    case 'resultAdd':
      return `result l${s.value}`;
    case 'print':
      return `print ${s.args.map(op).join(', ')}`;
    case 'mark':
      return `mark ${s.id}`;
    default:
      return s.op;
  }
}

function constText(c: ConstJSON): string {
  return JSON.stringify(c);
}
