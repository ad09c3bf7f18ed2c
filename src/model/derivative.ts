/**
 * Symbolic forward-mode differentiation over the expression DAG.
 *
 * `differentiate` pushes a directional derivative through the graph: the caller says what the
 * derivative of every leaf is (the seed), and each operation applies its chain rule. The rules
 * reference the primal nodes (e.g. d exp(a) = exp(a)·da reuses the node exp(a) itself), so after
 * hash-consing the tangent code shares every primal subexpression instead of recomputing it.
 */
import {
  type Expr, ZERO, add, affineForm, sub, mul, div, neg, exprelPrime, powi, select, topoOrder, num, lt, le, sin, cos, sinh, cosh,
} from './expr.ts';

/** The derivative of each root, given the derivative of each leaf. */
export function differentiate(roots: readonly Expr[], seed: (leaf: Expr) => Expr): Expr[] {
  const d = new Map<number, Expr>();
  for (const node of topoOrder(roots)) {
    d.set(node.id, node.args.length === 0 ? seed(node) : rule(node, node.args.map((a) => d.get(a.id)!)));
  }
  return roots.map((r) => d.get(r.id)!);
}

function rule(node: Expr, da: Expr[]): Expr {
  const [a, b] = node.args;
  switch (node.op) {
    case 'add': return add(da[0], da[1]);
    case 'sub': return sub(da[0], da[1]);
    case 'neg': return neg(da[0]);
    case 'mul': return add(mul(da[0], b), mul(a, da[1]));
    // d(a/b) = (da − (a/b)·db)/b
    case 'div': return affineQuotientDerivative(node, da) ?? div(sub(da[0], mul(node, da[1])), b);
    case 'exp': return mul(node, da[0]);
    case 'log': return div(da[0], a);
    case 'sqrt': return div(da[0], mul(2, node));
    case 'abs': return select(le(a, 0), neg(da[0]), da[0]);
    case 'tanh': return mul(sub(1, mul(node, node)), da[0]);
    case 'sin': return mul(cos(a), da[0]);
    case 'cos': return neg(mul(sin(a), da[0]));
    case 'tan': return mul(add(1, mul(node, node)), da[0]);
    case 'sinh': return mul(cosh(a), da[0]);
    case 'cosh': return mul(sinh(a), da[0]);
    // piecewise constant: zero almost everywhere (the steps themselves have no derivative)
    case 'ceil': case 'heaviside': return ZERO;
    case 'powi': return mul(mul(num(node.value), powi(a, node.value - 1)), da[0]);
    case 'expm1': return mul(add(node, 1), da[0]);
    case 'exprel': return mul(exprelPrime(a), da[0]);
    case 'min': return select(lt(a, b), da[0], da[1]);
    case 'max': return select(lt(a, b), da[1], da[0]);
    case 'lt': case 'le': case 'and': return ZERO;
    case 'select': return select(a, da[1], da[2]);
    case 'exprelPrime':
      throw new Error('second derivatives are not supported: a tangent expression was differentiated again');
    default:
      throw new Error(`no derivative rule for ${node.op}`);
  }
}

/**
 * d[m/(p·m + q)] = q·dm/(p·m + q)², for the quotient expr.ts writes in place of 1/(p + q/m) (a time
 * constant divided into dt). The general rule's da − (a/b)·db is dm·(1 − p·m/(p·m + q)), which
 * cancels to q/(p·m + q) and loses the digits of p·m/q in f32 where m is large; this form has no
 * subtraction. Undefined where the node has another form.
 */
function affineQuotientDerivative(node: Expr, da: Expr[]): Expr | undefined {
  const [m, denominator] = node.args;
  const d = affineForm(denominator);
  if (d.m !== m || m.isConst || d.k === 0 || d.c === 0) return undefined;
  // D² overflows f32 only where D > 1.8e19, i.e. m beyond 1e19/|p|: there the derivative is below
  // 1e-38·|q| per unit dm, and 0 in its place is as good
  return div(mul(d.c, da[0]), mul(denominator, denominator));
}
