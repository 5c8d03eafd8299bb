/**
 * A small reader for the Bicep files under infra/: tree-sitter-bicep (WASM, via web-tree-sitter)
 * gives the syntax tree, and this module turns the declarations the infra tests care about
 * (params, vars, resources, modules, outputs) into plain values. It is a syntax-level view: it
 * does not evaluate expressions, so non-literal values are kept as their source text.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

import { Language, type Node, Parser } from 'web-tree-sitter';

export const REPO_ROOT = path.resolve(__dirname, '..', '..');
export const INFRA_DIR = path.join(REPO_ROOT, 'infra');

export type BicepValue =
  | { kind: 'object'; props: Map<string, BicepValue>; text: string }
  | { kind: 'array'; items: BicepValue[]; text: string }
  /** `literal` is the string's value when it has no `${}` interpolation. */
  | { kind: 'string'; literal: string | undefined; text: string }
  | { kind: 'number' | 'boolean' | 'null' | 'expression'; text: string };

export type BicepObject = Extract<BicepValue, { kind: 'object' }>;

export interface BicepParam {
  name: string;
  type: string;
  defaultValue: BicepValue | undefined;
  /** Decorator names, e.g. `secure`, `allowed`, `minLength`. */
  decorators: string[];
}

export interface BicepResource {
  symbol: string;
  /** e.g. `Microsoft.Web/sites` */
  type: string;
  /** e.g. `2025-03-01`; '' when the type string has no `@version`. */
  apiVersion: string;
  existing: boolean;
  /** Source text of the `if (...)` condition, if any. */
  condition: string | undefined;
  body: BicepObject;
}

export interface BicepModule {
  symbol: string;
  path: string;
  condition: string | undefined;
  body: BicepObject;
}

export interface BicepFile {
  /** Path relative to the repository root, with forward slashes. */
  file: string;
  source: string;
  /** The source with every comment blanked out: what Azure Resource Manager gets to see. */
  code: string;
  /** `file:line:column kind` for every ERROR or MISSING node. */
  syntaxErrors: string[];
  targetScope: string | undefined;
  params: Map<string, BicepParam>;
  vars: Map<string, BicepValue>;
  resources: BicepResource[];
  modules: BicepModule[];
  outputs: Map<string, { type: string; value: BicepValue }>;
}

let parserPromise: Promise<Parser> | undefined;

/** The WASM grammar is loaded once per test file. */
function getParser(): Promise<Parser> {
  parserPromise ??= (async () => {
    await Parser.init();
    const language = await Language.load(
      require.resolve('tree-sitter-bicep/tree-sitter-bicep.wasm'),
    );
    const parser = new Parser();
    parser.setLanguage(language);
    return parser;
  })();
  return parserPromise;
}

function children(node: Node): Node[] {
  return node.children.filter((child): child is Node => child !== null);
}

function namedChildren(node: Node): Node[] {
  return node.namedChildren.filter((child): child is Node => child !== null);
}

function firstOfType(node: Node, type: string): Node | undefined {
  return children(node).find((child) => child.type === type);
}

function stringLiteral(node: Node): string | undefined {
  if (node.type !== 'string') return undefined;
  const parts = namedChildren(node);
  if (parts.some((part) => part.type === 'interpolation')) return undefined;
  // Escapes (\' \\ \n …) are kept as written: the tests only compare plain literals.
  return parts.map((part) => part.text).join('');
}

/** A key's literal name; an interpolated key (`'${id}'`) keeps its source text. */
function propertyKey(node: Node): string {
  const key = children(node)[0];
  if (!key) throw new Error(`object property without a key at ${node.startPosition.row + 1}`);
  return key.type === 'string' ? (stringLiteral(key) ?? key.text) : key.text;
}

export function toValue(node: Node): BicepValue {
  switch (node.type) {
    case 'object': {
      const props = new Map<string, BicepValue>();
      for (const property of children(node).filter((c) => c.type === 'object_property')) {
        const value = children(property).at(-1);
        if (value) props.set(propertyKey(property), toValue(value));
      }
      return { kind: 'object', props, text: node.text };
    }
    case 'array':
      return {
        kind: 'array',
        items: namedChildren(node)
          .filter((c) => c.type !== 'decorators')
          .map(toValue),
        text: node.text,
      };
    case 'string':
      return { kind: 'string', literal: stringLiteral(node), text: node.text };
    case 'number':
      return { kind: 'number', text: node.text };
    case 'boolean':
      return { kind: 'boolean', text: node.text };
    case 'null':
      return { kind: 'null', text: node.text };
    default:
      return { kind: 'expression', text: node.text };
  }
}

/** Body object of a resource/module: plain, behind `if (…)`, or a loop body. */
function declarationBody(node: Node): { body: BicepObject; condition: string | undefined } {
  const last = children(node).at(-1);
  if (last?.type === 'object') return { body: toValue(last) as BicepObject, condition: undefined };
  if (last?.type === 'if_statement') {
    const object = firstOfType(last, 'object');
    const condition = firstOfType(last, 'parenthesized_expression');
    if (object && condition) {
      return { body: toValue(object) as BicepObject, condition: condition.text.slice(1, -1) };
    }
  }
  throw new Error(
    `unsupported declaration body at line ${node.startPosition.row + 1}: ${node.text.slice(0, 80)}`,
  );
}

function withoutComments(root: Node, source: string): string {
  let code = source;
  const visit = (node: Node) => {
    if (node.type === 'comment') {
      code =
        code.slice(0, node.startIndex) +
        ' '.repeat(node.endIndex - node.startIndex) +
        code.slice(node.endIndex);
    }
    for (const child of children(node)) visit(child);
  };
  visit(root);
  return code;
}

function collectSyntaxErrors(root: Node, file: string): string[] {
  const errors: string[] = [];
  const visit = (node: Node) => {
    if (node.isError || node.isMissing) {
      const { row, column } = node.startPosition;
      errors.push(
        `${file}:${row + 1}:${column + 1} ${node.isMissing ? `missing ${node.type}` : 'syntax error'}`,
      );
    }
    for (const child of children(node)) visit(child);
  };
  visit(root);
  return errors;
}

export async function parseBicep(source: string, file = '<inline>'): Promise<BicepFile> {
  const parser = await getParser();
  const tree = parser.parse(source);
  if (!tree) throw new Error(`tree-sitter returned no tree for ${file}`);
  const result: BicepFile = {
    file,
    source,
    code: withoutComments(tree.rootNode, source),
    syntaxErrors: collectSyntaxErrors(tree.rootNode, file),
    targetScope: undefined,
    params: new Map(),
    vars: new Map(),
    resources: [],
    modules: [],
    outputs: new Map(),
  };

  let pendingDecorators: string[] = [];
  for (const statement of namedChildren(tree.rootNode)) {
    if (statement.type === 'decorators') {
      // Decorators are sibling statements that apply to the next declaration.
      pendingDecorators = namedChildren(statement).map(
        (decorator) => firstOfType(decorator, 'call_expression')?.namedChildren[0]?.text ?? '',
      );
      continue;
    }
    const decorators = pendingDecorators;
    pendingDecorators = [];
    const identifier = firstOfType(statement, 'identifier')?.text ?? '';
    switch (statement.type) {
      case 'target_scope_assignment': {
        const value = firstOfType(statement, 'string');
        result.targetScope = value ? stringLiteral(value) : undefined;
        break;
      }
      case 'parameter_declaration': {
        const parts = children(statement);
        const equals = parts.findIndex((part) => part.type === '=');
        const defaultNode = equals >= 0 ? parts[equals + 1] : undefined;
        result.params.set(identifier, {
          name: identifier,
          type: firstOfType(statement, 'type')?.text ?? '',
          defaultValue: defaultNode ? toValue(defaultNode) : undefined,
          decorators,
        });
        break;
      }
      case 'variable_declaration': {
        const value = children(statement).at(-1);
        if (value) result.vars.set(identifier, toValue(value));
        break;
      }
      case 'resource_declaration': {
        const typeNode = firstOfType(statement, 'string');
        const typeString = typeNode ? (stringLiteral(typeNode) ?? '') : '';
        const [type = '', apiVersion = ''] = typeString.split('@');
        result.resources.push({
          symbol: identifier,
          type,
          apiVersion,
          existing: children(statement).some((part) => part.type === 'existing'),
          ...declarationBody(statement),
        });
        break;
      }
      case 'module_declaration': {
        const pathNode = firstOfType(statement, 'string');
        result.modules.push({
          symbol: identifier,
          path: pathNode ? (stringLiteral(pathNode) ?? '') : '',
          ...declarationBody(statement),
        });
        break;
      }
      case 'output_declaration': {
        const value = children(statement).at(-1);
        if (value) {
          result.outputs.set(identifier, {
            type: firstOfType(statement, 'type')?.text ?? '',
            value: toValue(value),
          });
        }
        break;
      }
      default:
        break;
    }
  }
  return result;
}

/** Follows a dotted path of object keys, e.g. `properties.siteConfig.minTlsVersion`. */
export function prop(value: BicepValue | undefined, dottedPath: string): BicepValue | undefined {
  let current = value;
  for (const key of dottedPath.split('.')) {
    if (current?.kind !== 'object') return undefined;
    current = current.props.get(key);
  }
  return current;
}

/** The literal a value holds (string without interpolation, number, boolean), else its source. */
export function text(value: BicepValue | undefined): string | undefined {
  if (!value) return undefined;
  return value.kind === 'string' ? (value.literal ?? value.text) : value.text;
}

export function listBicepFiles(dir = INFRA_DIR): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.bicep'))
    .map((entry) => path.join(entry.parentPath, entry.name))
    .sort();
}

export async function readBicep(absolutePath: string): Promise<BicepFile> {
  const file = path.relative(REPO_ROOT, absolutePath).split(path.sep).join('/');
  return parseBicep(readFileSync(absolutePath, 'utf8'), file);
}

export interface Infra {
  main: BicepFile;
  api: BicepFile;
  rbac: BicepFile;
  all: BicepFile[];
}

export async function loadInfra(): Promise<Infra> {
  const all = await Promise.all(listBicepFiles().map(readBicep));
  const byName = (file: string) => {
    const found = all.find((parsed) => parsed.file === file);
    if (!found) throw new Error(`${file} is missing`);
    return found;
  };
  return {
    main: byName('infra/main.bicep'),
    api: byName('infra/app/api.bicep'),
    rbac: byName('infra/app/rbac.bicep'),
    all,
  };
}

/** The single non-`existing` resource of a type in a file (fails loudly when there are more). */
export function declared(file: BicepFile, type: string): BicepResource {
  const matches = file.resources.filter((r) => r.type === type && !r.existing);
  if (matches.length !== 1) {
    throw new Error(`${file.file}: expected one ${type}, found ${matches.length}`);
  }
  return matches[0]!;
}
