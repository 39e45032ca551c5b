// Protocol Buffers text format (what Triton's config.pbtxt is written in) read into a tree of named fields, without a
// schema: model-config.ts then reads the fields it knows. No npm package parses text format (protobufjs and
// @bufbuild/protobuf read binary and JSON only), and the grammar a config uses is small: `name: value`,
// `name { ... }` (or `name: { ... }`, `< ... >`), lists `[a, b]`, strings with C escapes, numbers, identifiers,
// `#` comments, and optional `,` or `;` between fields.

/** One value of a field: a scalar as written, or a nested message. */
export type TextValue =
  | { readonly kind: 'string'; readonly value: string; readonly line: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly line: number }
  | { readonly kind: 'identifier'; readonly value: string; readonly line: number }
  | { readonly kind: 'message'; readonly value: TextMessage; readonly line: number };

/** A message: each field name with its values in order (a repeated field has several, a list's elements included). */
export type TextMessage = ReadonlyMap<string, readonly TextValue[]>;

/** A config that is not valid text format; the message names the line. */
export class TextFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TextFormatError';
  }
}

type Token =
  | { kind: 'punct'; text: string; line: number }
  | { kind: 'string'; value: string; line: number }
  | { kind: 'word'; text: string; line: number }
  | { kind: 'end'; line: number };

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  v: '\v',
  '?': '?',
};

// Strings may hold any UTF-8; escapes are C's, with octal and hex bytes taken as code points below 256.
function readString(text: string, start: number, line: number): { value: string; end: number } {
  const quote = text[start]!;
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i]!;
    if (c === quote) return { value, end: i + 1 };
    if (c === '\n') break;
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = text[++i] ?? '';
    if (ESCAPES[next] !== undefined) value += ESCAPES[next];
    else if (/[0-7]/.test(next)) {
      const digits = /^[0-7]{1,3}/.exec(text.slice(i))![0];
      value += String.fromCharCode(Number.parseInt(digits, 8));
      i += digits.length - 1;
    } else if (next === 'x') {
      const digits = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 1))?.[0];
      if (!digits) throw new TextFormatError(`line ${line}: \\x without hex digits`);
      value += String.fromCharCode(Number.parseInt(digits, 16));
      i += digits.length;
    } else throw new TextFormatError(`line ${line}: unknown escape \\${next}`);
  }
  throw new TextFormatError(`line ${line}: string not closed on its line`);
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let line = 1;
  for (let i = 0; i < text.length; ) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
    } else if ('{}[]<>:,;'.includes(c)) {
      tokens.push({ kind: 'punct', text: c, line });
      i++;
    } else if (c === '"' || c === "'") {
      const { value, end } = readString(text, i, line);
      const last = tokens.at(-1);
      // Adjacent strings are one string, as in C.
      if (last?.kind === 'string') last.value += value;
      else tokens.push({ kind: 'string', value, line });
      i = end;
    } else {
      const word = /^[-+.\w]+/.exec(text.slice(i))?.[0];
      if (!word) throw new TextFormatError(`line ${line}: unexpected character ${JSON.stringify(c)}`);
      tokens.push({ kind: 'word', text: word, line });
      i += word.length;
    }
  }
  tokens.push({ kind: 'end', line });
  return tokens;
}

const NUMBER = /^[-+]?(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?[fF]?|inf(inity)?|nan)$/i;

function scalarOf(token: Token): TextValue {
  if (token.kind === 'string') return { kind: 'string', value: token.value, line: token.line };
  if (token.kind === 'word') {
    if (NUMBER.test(token.text)) {
      const text = token.text.replace(/[fF]$/, '');
      const value = /0x/i.test(text) ? Number.parseInt(text, 16) : Number(text);
      return { kind: 'number', value, text: token.text, line: token.line };
    }
    if (/^[A-Za-z_]\w*$/.test(token.text)) return { kind: 'identifier', value: token.text, line: token.line };
  }
  const shown =
    token.kind === 'end' ? 'the end of the file' : token.kind === 'punct' ? token.text : JSON.stringify(token);
  throw new TextFormatError(`line ${token.line}: expected a value, found ${shown}`);
}

/**
 * Reads protobuf text format.
 * @throws TextFormatError naming the line of the first thing that is not text format.
 */
export function parseTextFormat(text: string): TextMessage {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token => tokens[at]!;
  const isPunct = (t: Token, p: string): boolean => t.kind === 'punct' && t.text === p;

  const message = (close: string | undefined): Map<string, TextValue[]> => {
    const fields = new Map<string, TextValue[]>();
    for (;;) {
      const token = peek();
      if (close === undefined ? token.kind === 'end' : isPunct(token, close)) {
        at++;
        return fields;
      }
      if (token.kind !== 'word' || !/^[A-Za-z_][\w.]*$/.test(token.text))
        throw new TextFormatError(
          `line ${token.line}: expected a field name${close ? ` or ${close}` : ''}, found ${token.kind === 'end' ? 'the end of the file' : token.kind === 'string' ? `"${token.value}"` : token.text}`,
        );
      at++;
      const values = fields.get(token.text) ?? [];
      fields.set(token.text, values);
      const hasColon = isPunct(peek(), ':');
      if (hasColon) at++;
      const next = peek();
      if (isPunct(next, '[')) {
        at++;
        while (!isPunct(peek(), ']')) {
          values.push(value(hasColon));
          if (isPunct(peek(), ',')) at++;
          else if (!isPunct(peek(), ']'))
            throw new TextFormatError(`line ${peek().line}: expected , or ] in the list of ${token.text}`);
        }
        at++;
      } else values.push(value(hasColon));
      if (isPunct(peek(), ',') || isPunct(peek(), ';')) at++;
    }
  };

  const value = (hasColon: boolean): TextValue => {
    const token = peek();
    if (isPunct(token, '{') || isPunct(token, '<')) {
      at++;
      return {
        kind: 'message',
        value: message(token.kind === 'punct' && token.text === '{' ? '}' : '>'),
        line: token.line,
      };
    }
    if (!hasColon) throw new TextFormatError(`line ${token.line}: expected : or { after a field name`);
    at++;
    return scalarOf(token);
  };

  return message(undefined);
}
