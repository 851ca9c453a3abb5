// Loads the CLI's TypeScript without a build step, and without tsx's start-up cost (issue 14).
//
// Through tsx a CLI run took ~1.5x node-pg-migrate's: registering tsx costs tens of ms, and its
// hooks sit in front of every require, node_modules' .js files included. Here only `.ts` files are
// hooked. Each is compiled by esbuild with tsx's own options (so the code that runs is the code tsx
// would run), once; the result is kept in node_modules/.cache/synter-infra/<checkout>/, one entry
// per source file, valid only for the source's exact bytes. So an edited file is compiled again
// on its next require and stale code never runs, whatever the file's mtime says; the check costs
// a read and a SHA-1 per file loaded (a few ms for the 13 files of `migrate up`).
//
// An entry is one file: a header (key, source hash, byte count, code hash) and the compiled code.
// It is written to a temporary name and renamed into place, so a concurrent run reads the old entry
// or the new one, never half of one; an entry that does not check out (other esbuild, Node or
// tsconfig.json, truncated, corrupt) is compiled again and rewritten. When esbuild cannot run, the
// process falls back to tsx. SYNTER_INFRA_TS_CACHE=off always uses tsx; SYNTER_INFRA_TS_CACHE_DIR
// moves the cache (tests). test/cli/typescript-cache.test.ts holds it to all of this.
"use strict";
const { Buffer } = require("node:buffer");
const { createHash } = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const { pathToFileURL } = require("node:url");

/** Bump when the entry format or the compile options change: every entry is then rebuilt. */
const FORMAT = 2;
const HEADER_PREFIX = "//synter-infra-ts-cache ";

const sha1 = (data) => createHash("sha1").update(data).digest("hex");

/**
 * What esbuild is told, as tsx 4 tells it for a CommonJS module (dist/register-*.cjs: target the
 * running Node, inline source map without the sources, whitespace minified, names kept, the
 * `__filename` banner and its IIFE): the same compiled code runs whether a file came from this
 * cache or from tsx.
 */
function esbuildOptions(filename, tsconfigRaw, source) {
  const options = {
    loader: "ts",
    format: "cjs",
    platform: "node",
    target: `node${process.versions.node}`,
    sourcefile: filename,
    sourcemap: "inline",
    // tsx leaves the sources out (the map names the .ts file): a third of the size to parse.
    sourcesContent: false,
    minifyWhitespace: true,
    keepNames: true,
    banner: `__filename=${JSON.stringify(filename)};(()=>{`,
    footer: "})()",
    tsconfigRaw,
  };
  if (source.includes("import.meta")) {
    const meta = {
      dirname: path.dirname(filename),
      filename,
      url: pathToFileURL(filename).href,
    };
    options.define = { "import.meta": JSON.stringify(meta) };
  }
  return options;
}

/** `undefined` when the entry is missing or does not check out. */
function readEntry(file, key, sourceHash) {
  let bytes;
  try {
    bytes = fs.readFileSync(file);
  } catch {
    return undefined;
  }
  const newline = bytes.indexOf(10);
  if (newline < 0) return undefined;
  const header = bytes.toString("utf8", 0, newline);
  if (!header.startsWith(HEADER_PREFIX)) return undefined;
  let meta;
  try {
    meta = JSON.parse(header.slice(HEADER_PREFIX.length));
  } catch {
    return undefined;
  }
  const body = bytes.subarray(newline + 1);
  if (meta.key !== key || meta.source !== sourceHash || meta.bytes !== body.length) {
    return undefined;
  }
  // The code's own hash: a torn or overwritten entry of the right length is caught too.
  if (meta.code !== sha1(body)) return undefined;
  return body.toString("utf8");
}

/** Best effort: a cache that cannot be written (read-only checkout) only costs speed. */
function writeEntry(file, key, sourceHash, code) {
  const body = Buffer.from(code, "utf8");
  const meta = { key, source: sourceHash, bytes: body.length, code: sha1(body) };
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      temporary,
      Buffer.concat([Buffer.from(`${HEADER_PREFIX}${JSON.stringify(meta)}\n`), body]),
    );
    fs.renameSync(temporary, file);
  } catch {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * Where the entries of the repository at `root` live. One folder per checkout: a copy that links
 * the same node_modules (the diff and clone tests make such copies) has files of the same names
 * but other absolute paths, and the compiled code names its file (`__filename`, the source map).
 */
function cacheDirectory(root) {
  const base =
    process.env.SYNTER_INFRA_TS_CACHE_DIR ||
    path.join(root, "node_modules", ".cache", "synter-infra");
  return path.join(base, `${path.basename(root)}-${sha1(root).slice(0, 12)}`);
}

/**
 * Hooks `.ts` into Node's CommonJS loader for the repository at `root`. Returns "cache", or "tsx"
 * when the cache is switched off or its set-up failed and tsx was registered instead.
 */
function registerTypeScript(root) {
  if (process.env.SYNTER_INFRA_TS_CACHE === "off") return useTsx();
  let key;
  let tsconfigRaw;
  let esbuildPackage;
  try {
    const tsconfigText = fs.readFileSync(path.join(root, "tsconfig.json"), "utf8");
    // tsconfig.json is plain JSON here (no comments): esbuild reads the same compilerOptions
    // tsx would hand it.
    tsconfigRaw = JSON.parse(tsconfigText);
    // esbuild does not follow `extends` in a tsconfigRaw; tsx does.
    if (tsconfigRaw.extends !== undefined) return useTsx();
    esbuildPackage = require.resolve("esbuild/package.json", { paths: [root] });
    const esbuildVersion = JSON.parse(fs.readFileSync(esbuildPackage, "utf8")).version;
    key = sha1(JSON.stringify([FORMAT, process.versions.node, esbuildVersion, tsconfigText]));
  } catch {
    return useTsx();
  }
  const cacheDir = cacheDirectory(root);
  const sourceRoot = `${root}${path.sep}`;
  let esbuild;

  /** Where `filename`'s entry lives: its path under the repository, mirrored; none elsewhere. */
  const entryOf = (filename) =>
    filename.startsWith(sourceRoot) && !filename.includes(`${path.sep}node_modules${path.sep}`)
      ? path.join(cacheDir, `${filename.slice(sourceRoot.length)}.js`)
      : undefined;

  function compile(source, filename) {
    esbuild ??= require(path.dirname(esbuildPackage));
    return esbuild.transformSync(source, esbuildOptions(filename, tsconfigRaw, source)).code;
  }

  function loadTypeScript(module, filename) {
    const source = fs.readFileSync(filename, "utf8");
    const sourceHash = sha1(source);
    const entry = entryOf(filename);
    let code = entry && readEntry(entry, key, sourceHash);
    if (code === undefined) {
      try {
        code = compile(source, filename);
      } catch (error) {
        // A TypeScript syntax error is the source's: report it as tsx does.
        if (error && Array.isArray(error.errors) && error.errors.length > 0) {
          error.name = "TransformError";
          delete error.errors;
          delete error.warnings;
          throw error;
        }
        // esbuild itself failed (missing, its binary would not start): tsx from here on; its
        // hook replaces this one.
        useTsx();
        const tsxLoader = Module._extensions[".ts"];
        if (tsxLoader === loadTypeScript) throw error;
        return tsxLoader(module, filename);
      }
      if (entry) writeEntry(entry, key, sourceHash, code);
    }
    withSourceMaps(true, () => module._compile(code, filename));
  }

  // Stack traces point into the .ts files, as under tsx: the maps are inline, and Node reads a
  // file's map when it loads the file with source maps enabled (process.setSourceMapsEnabled).
  // Not so for node_modules' .js files: many name a .map file (pg-protocol, glob and what glob
  // loads) that Node would read and parse at load, ~20 ms of `migrate up`'s start-up, for frames
  // of compiled library code. So maps are on while a .ts file loads and off while a .js one does.
  let sourceMaps = false;
  function withSourceMaps(enabled, load) {
    const previous = sourceMaps;
    if (enabled !== previous) process.setSourceMapsEnabled((sourceMaps = enabled));
    try {
      return load();
    } finally {
      if (sourceMaps !== previous) process.setSourceMapsEnabled((sourceMaps = previous));
    }
  }
  const loadJavaScript = Module._extensions[".js"];
  Module._extensions[".js"] = (module, filename) =>
    withSourceMaps(false, () => loadJavaScript(module, filename));
  Module._extensions[".ts"] = loadTypeScript;
  // On outside any load: stack traces are formatted with the maps read so far.
  process.setSourceMapsEnabled((sourceMaps = true));
  return "cache";
}

function useTsx() {
  require("tsx/cjs");
  return "tsx";
}

module.exports = { registerTypeScript, cacheDirectory };
