/** Compact text of a term that shows its structure: calls by builtin name, refs by parts. */
import type { Body, Literal, Term } from '../../../../policies/rego/ast';

export function sexpr(t: Term): string {
  switch (t.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(t.value);
    case 'number':
      return t.raw;
    case 'string':
      return JSON.stringify(t.value);
    case 'var':
      return t.name;
    case 'ref':
      return (
        sexpr(t.head) +
        t.path.map((p) => (p.type === 'string' ? `.${p.value}` : `[${sexpr(p)}]`)).join('')
      );
    case 'array':
      return `[${t.items.map(sexpr).join(', ')}]`;
    case 'set':
      return `set(${t.items.map(sexpr).join(', ')})`;
    case 'object':
      return `{${t.entries.map(([k, v]) => `${sexpr(k)}: ${sexpr(v)}`).join(', ')}}`;
    case 'arraycomp':
      return `[${sexpr(t.head)} | ${body(t.body)}]`;
    case 'setcomp':
      return `set(${sexpr(t.head)} | ${body(t.body)})`;
    case 'objectcomp':
      return `{${sexpr(t.key)}: ${sexpr(t.value)} | ${body(t.body)}}`;
    case 'call':
      return `${sexpr(t.operator)}(${t.args.map(sexpr).join(', ')})`;
  }
}

export function literal(l: Literal): string {
  const e = l.expr;
  let text: string;
  switch (e.type) {
    case 'term':
      text = sexpr(e.term);
      break;
    case 'some':
      text = `some ${e.vars.map(sexpr).join(', ')}`;
      break;
    case 'somein':
      text = `some ${e.key ? `${sexpr(e.key)}, ` : ''}${sexpr(e.value)} in ${sexpr(e.collection)}`;
      break;
    case 'every':
      text = `every ${e.key ? `${sexpr(e.key)}, ` : ''}${sexpr(e.value)} in ${sexpr(e.domain)} { ${body(e.body)} }`;
      break;
    case 'notbody':
      text = `notbody${e.explicit ? '!' : ''} { ${body(e.body)} }`;
      break;
  }
  const withs = l.with.map((w) => ` with ${sexpr(w.target)} as ${sexpr(w.value)}`).join('');
  return `${l.negated ? 'not ' : ''}${text}${withs}`;
}

export function body(b: Body): string {
  return b.map(literal).join('; ');
}
