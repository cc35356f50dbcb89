// `npm run build`, after tsc: replaces dist/kube/client-node.js (which re-exports the names hcsync
// uses from @kubernetes/client-node) by a bundle of just what those names reach, client-node's own
// dependencies included, tree-shaken by esbuild. Why (src/kube/client-node.ts): the package's index
// loads its ~1,000 generated modules, 25 MB of source that V8 keeps for the life of the process;
// the bundle is ~5 MB. Everything else in dist/ stays tsc's output, one file per source.
//
//   node scripts/bundle-client-node.ts [DIST]    (DIST defaults to dist)
import { build } from 'esbuild';
import { join } from 'node:path';

const dist = process.argv[2] ?? 'dist';
const file = join(dist, 'kube', 'client-node.js');
const result = await build({
  entryPoints: [file],
  outfile: file,
  allowOverwrite: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  treeShaking: true,
  // Without comments and indentation: V8 keeps a module's source for as long as the process runs,
  // and one non-ASCII character (a comment's ’ or §) makes it keep all of it as two bytes a
  // character. Identifiers stay as written (stack traces, class names in messages).
  minifyWhitespace: true,
  minifySyntax: true,
  charset: 'ascii',
  // Licence headers too (undici's has an ä): the packages and their LICENSE files stay installed.
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
  // CommonJS dependencies (js-yaml, socks, …) call require() for Node's built-in modules: an ES
  // module bundle has no require of its own.
  banner: {
    js: "import { createRequire as __hcsyncCreateRequire } from 'node:module'; const require = __hcsyncCreateRequire(import.meta.url);",
  },
});
const bytes = Object.values(result.metafile.outputs).reduce((n, o) => n + o.bytes, 0);
const inputs = Object.keys(result.metafile.inputs).length;
console.log(`bundled ${file}: ${inputs} modules, ${(bytes / 1048576).toFixed(1)} MB`);
