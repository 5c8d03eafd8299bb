// `node scripts/check.mjs`: the type check (`npm run typecheck`) and eslint (the first half of
// `npm run lint`) from one TypeScript program. Each alone builds and checks the whole program
// (parse, bind, every type), which is most of its time; run one after the other they do it twice.
// Here tsc's check runs first and eslint's type-aware rules read the types it already worked out.
// `npm test` runs this; the two scripts stay what a person runs by hand. Prints what each would.
import path from 'node:path';

import { ESLint } from 'eslint';
import ts from 'typescript';

const root = process.cwd();

function typeCheck() {
  const host = {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
      throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n'));
    },
  };
  const config = ts.getParsedCommandLineOfConfigFile(path.join(root, 'tsconfig.json'), {}, host);
  const program = ts.createProgram({
    rootNames: config.fileNames,
    options: config.options,
    projectReferences: config.projectReferences,
  });
  const diagnostics = [...config.errors, ...ts.getPreEmitDiagnostics(program)];
  if (diagnostics.length > 0) {
    process.stdout.write(
      ts.formatDiagnosticsWithColorAndContext(diagnostics, {
        getCanonicalFileName: (f) => f,
        getCurrentDirectory: () => root,
        getNewLine: () => '\n',
      }),
    );
  }
  return { program, ok: diagnostics.length === 0 };
}

async function lint(program) {
  const eslint = new ESLint({
    cwd: root,
    // The TypeScript files get the program above instead of a project service of their own;
    // the plain JavaScript ones (no type information, see eslint.config.mjs) are left as they are.
    overrideConfig: [
      {
        files: ['**/*.ts', '**/*.mts'],
        languageOptions: { parserOptions: { projectService: false, programs: [program] } },
      },
    ],
  });
  const results = await eslint.lintFiles(['.']);
  const formatter = await eslint.loadFormatter('stylish');
  const text = await formatter.format(results);
  if (text) process.stdout.write(`${text}\n`);
  return results.every((r) => r.errorCount === 0 && r.fatalErrorCount === 0);
}

const typed = typeCheck();
const linted = await lint(typed.program);
console.log(`type check ${typed.ok ? 'ok' : 'FAILED'}, eslint ${linted ? 'ok' : 'FAILED'}`);
process.exitCode = typed.ok && linted ? 0 : 1;
