/**
 * Prints scheduled expressions as source text. Each target (JavaScript, WGSL) supplies its own
 * spelling of literals, leaves and operations; the traversal and the use of scheduled names are
 * shared, so both backends print the same computation.
 */
import type { Expr } from '../model/expr.ts';
import type { Schedule } from './schedule.ts';

export interface Spelling {
  literal(value: number): string;
  /** parameters, states, tangents, time */
  leaf(node: Expr): string;
  /** `operand` prints any node as an operand (for spellings that look past their direct arguments) */
  op(node: Expr, args: string[], operand: (node: Expr) => string): string;
}

export interface Printer {
  /** a node as an operand: its scheduled name if it has one, else its expression inline */
  text(node: Expr): string;
  /** a node's own expression, ignoring its name (for the line that defines it) */
  body(node: Expr): string;
}

/**
 * The four arithmetic operations and negation, parenthesised: spelled alike in WGSL, GLSL and
 * JavaScript (the emitters differ in literals and functions, not here). Undefined for other ops.
 */
export function infixArithmetic(op: string, a: readonly string[]): string | undefined {
  switch (op) {
    case 'add': return `(${a[0]} + ${a[1]})`;
    case 'sub': return `(${a[0]} - ${a[1]})`;
    case 'mul': return `(${a[0]} * ${a[1]})`;
    case 'div': return `(${a[0]} / ${a[1]})`;
    case 'neg': return `(-${a[0]})`;
    default: return undefined;
  }
}

/**
 * Only numbers are printed as literals: source text is generated from them, so anything else reaching
 * here (validate.ts keeps it from happening) is a bug to stop, not text to paste.
 */
export function checkedNumber(value: unknown): number {
  if (typeof value !== 'number') throw new Error(`refusing to print a ${typeof value} as a numeric literal in generated code`);
  return value;
}

/** `schedules` name nodes (the first to name a node wins); every other node is printed inline. */
export function makePrinter(spelling: Spelling, schedules: readonly Pick<Schedule, 'names'>[]): Printer {
  const memo = new Map<number, string>();
  const text = (node: Expr): string => {
    for (const s of schedules) {
      const name = s.names.get(node.id);
      if (name) return name;
    }
    return body(node);
  };
  const body = (node: Expr): string => {
    const cached = memo.get(node.id);
    if (cached !== undefined) return cached;
    const out = node.op === 'const' ? spelling.literal(checkedNumber(node.value)) : node.args.length === 0 ? spelling.leaf(node) : spelling.op(node, node.args.map(text), text);
    memo.set(node.id, out);
    return out;
  };
  return { text, body };
}
