// A small IAM evaluator for tests: does a set of Allow statements grant (action, resource)?
// Independent of src/policy so that tests check the generated policies by their meaning.

export interface Statement {
  Sid?: string;
  Effect: string;
  Action?: string | string[];
  Resource?: string | string[];
  Condition?: unknown;
}

export interface PolicyDocument {
  Version: string;
  Statement: Statement[];
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

function globToRegExp(glob: string, flags: string): RegExp {
  const body = glob
    .split(/(\$\{[^}]*\}|\*|\?)/)
    .map((part) =>
      part === '*'
        ? '.*'
        : part === '?'
          ? '.'
          : part.startsWith('${')
            ? '[^:/]*'
            : part.replace(/[.+^$()|[\]\\{}]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${body}$`, flags);
}

export function matches(pattern: string, value: string, caseInsensitive = false): boolean {
  return globToRegExp(pattern, caseInsensitive ? 'i' : '').test(value);
}

/** True when some Allow statement names the action and a resource pattern covering `resource`. */
export function allows(docs: readonly PolicyDocument[], action: string, resource: string): boolean {
  return docs.some((doc) =>
    doc.Statement.some(
      (s) =>
        s.Effect === 'Allow' &&
        list(s.Action).some((a) => matches(a, action, true)) &&
        list(s.Resource).some((r) => matches(r, resource)),
    ),
  );
}

/** Every action a document set names (exact names; wildcards kept as written). */
export function actionsOf(docs: readonly PolicyDocument[]): Set<string> {
  const out = new Set<string>();
  for (const doc of docs) for (const s of doc.Statement) for (const a of list(s.Action)) out.add(a);
  return out;
}
