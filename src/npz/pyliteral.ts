// The .npy header is a Python dict literal (numpy writes it with repr()). This parses the subset
// repr() produces — str, int, True/False/None, tuple, list, dict — and rejects anything else,
// so a garbage header is an error rather than a guess.
export type PyValue = string | number | boolean | null | PyValue[] | { [key: string]: PyValue };

/** Throws a plain Error with a short reason; the caller names the file and member. */
export function parsePyLiteral(text: string): PyValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const fail = (what: string): never => {
    throw new Error(`${what} at character ${i}`);
  };
  const value = (depth: number): PyValue => {
    if (depth > 16) fail('nesting too deep');
    ws();
    const c = text[i];
    if (c === "'" || c === '"') return str(c);
    if (c === '(' || c === '[') return seq(c === '(' ? ')' : ']', depth);
    if (c === '{') return dict(depth);
    const word = /^(True|False|None|-?\d+L?)/.exec(text.slice(i, i + 32))?.[0];
    if (!word) return fail('unexpected input');
    i += word.length;
    if (word === 'True' || word === 'False') return word === 'True';
    if (word === 'None') return null;
    const n = Number(word.replace('L', ''));
    return Number.isSafeInteger(n) ? n : fail('integer too large');
  };
  const str = (quote: string): string => {
    const end = text.indexOf(quote, i + 1);
    if (end < 0) fail('unterminated string');
    const s = text.slice(i + 1, end);
    if (s.includes('\\')) fail('escaped string');
    i = end + 1;
    return s;
  };
  // A comma-separated run of items up to `close`; a trailing comma is allowed, as repr writes `(5,)`.
  const items = (close: string, item: () => void): void => {
    i++;
    for (;;) {
      ws();
      if (text[i] === close) break;
      item();
      ws();
      if (text[i] === ',') i++;
      else if (text[i] !== close) fail(`expected ',' or '${close}'`);
    }
    i++;
  };
  const seq = (close: string, depth: number): PyValue[] => {
    const out: PyValue[] = [];
    items(close, () => out.push(value(depth + 1)));
    return out;
  };
  const dict = (depth: number): { [key: string]: PyValue } => {
    const out: { [key: string]: PyValue } = Object.create(null);
    items('}', () => {
      const key = value(depth + 1);
      if (typeof key !== 'string') fail('dict key is not a string');
      ws();
      if (text[i] !== ':') fail("expected ':'");
      i++;
      out[key as string] = value(depth + 1);
    });
    return out;
  };
  const v = value(0);
  ws();
  if (i !== text.length) fail('trailing characters');
  return v;
}
