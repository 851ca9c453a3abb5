/**
 * bin/typescript-cache.js, how `synter-infra` loads its TypeScript: compiled once into a cache that
 * never serves stale code (an entry is checked against the source's bytes, not its mtime), that a
 * torn or corrupt entry cannot break, that concurrent runs can share, and that falls back to tsx
 * when esbuild cannot run. Each test runs a throwaway project in fresh Node processes.
 */
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";

const ROOT = join(__dirname, "..", "..");
const CACHE_MODULE = join(ROOT, "bin", "typescript-cache.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- plain CommonJS, no types
const { cacheDirectory } = require(CACHE_MODULE) as {
  cacheDirectory: (root: string) => string;
};

interface Output {
  readonly mode: string;
  readonly greeting: string;
  /** Whether any module of tsx was loaded. */
  readonly tsx: boolean;
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

const ENTRY = `
const mode = require(${JSON.stringify(CACHE_MODULE)}).registerTypeScript(__dirname);
const loaded = require(process.argv[2] || "./src/greeting");
// A module may export an error instead: its stack, formatted after loading.
const greeting = loaded.greeting ?? loaded.error.stack;
const tsx = Object.keys(require.cache).some((file) => file.includes("/node_modules/tsx/"));
process.stdout.write(JSON.stringify({ mode, greeting, tsx }));
`;

const temporaryDirs: string[] = [];
afterAll(() => {
  for (const dir of temporaryDirs) rmSync(dir, { recursive: true, force: true });
});

/** `cacheDirectory()` as a run with SYNTER_INFRA_TS_CACHE_DIR=`base` computes it. */
function withCacheBase<T>(base: string, compute: () => T): T {
  const saved = process.env.SYNTER_INFRA_TS_CACHE_DIR;
  process.env.SYNTER_INFRA_TS_CACHE_DIR = base;
  try {
    return compute();
  } finally {
    if (saved === undefined) delete process.env.SYNTER_INFRA_TS_CACHE_DIR;
    else process.env.SYNTER_INFRA_TS_CACHE_DIR = saved;
  }
}

/** A project: the repository's tsconfig.json, two modules, and `node_modules` as given. */
function project(nodeModules: "repository" | "broken-esbuild" = "repository", cacheBase?: string) {
  const dir = mkdtempSync(join(tmpdir(), "synter-ts-cache-"));
  temporaryDirs.push(dir);
  cacheBase ??= join(dir, "cache");
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  };
  write("tsconfig.json", readFileSync(join(ROOT, "tsconfig.json"), "utf8"));
  write("entry.js", ENTRY);
  write(
    "src/greeting.ts",
    'import { name } from "./name";\nexport const greeting: string = `hello ${name}`;\n',
  );
  write("src/name.ts", 'export const name = "v1" as string;\n');
  if (nodeModules === "repository") {
    symlinkSync(join(ROOT, "node_modules"), join(dir, "node_modules"));
  } else {
    // An esbuild whose binary cannot start; tsx keeps its own (working) esbuild.
    write(
      "node_modules/esbuild/package.json",
      '{ "name": "esbuild", "version": "0.0.0-broken", "main": "index.js" }\n',
    );
    write(
      "node_modules/esbuild/index.js",
      'exports.transformSync = () => { throw new Error("spawn esbuild ENOENT"); };\n',
    );
    symlinkSync(join(ROOT, "node_modules", "tsx"), join(dir, "node_modules", "tsx"));
  }
  const env: NodeJS.ProcessEnv = { ...process.env, SYNTER_INFRA_TS_CACHE_DIR: cacheBase };
  delete env.SYNTER_INFRA_TS_CACHE;
  const cacheDir = withCacheBase(cacheBase, () => cacheDirectory(dir));
  return {
    dir,
    cacheDir,
    write,
    env,
    entryOf: (source: string) => join(cacheDir, `${source}.js`),
    run(module?: string, extraEnv: Record<string, string> = {}): Run {
      const result = spawnSync(process.execPath, ["entry.js", ...(module ? [module] : [])], {
        cwd: dir,
        encoding: "utf8",
        env: { ...env, ...extraEnv },
      });
      return { status: result.status, stdout: result.stdout, stderr: result.stderr };
    },
  };
}

function output(run: Run): Output {
  if (run.status !== 0) throw new Error(`exit ${run.status}: ${run.stderr}`);
  return JSON.parse(run.stdout) as Output;
}

/** Identity of a file's current version: a rewrite (temporary file + rename) changes it. */
const version = (file: string) => {
  const stat = statSync(file);
  return `${stat.ino}:${stat.mtimeMs}`;
};

/** The cache's files, relative to it; none when it was never created. */
function entries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

describe("the TypeScript compile cache", () => {
  it("compiles each module on first use and serves the next run from the cache, without tsx", () => {
    const p = project();
    expect(output(p.run())).toEqual({ mode: "cache", greeting: "hello v1", tsx: false });
    expect(entries(p.cacheDir)).toEqual(["src/greeting.ts.js", "src/name.ts.js"]);
    const before = [version(p.entryOf("src/greeting.ts")), version(p.entryOf("src/name.ts"))];

    expect(output(p.run())).toEqual({ mode: "cache", greeting: "hello v1", tsx: false });
    expect([version(p.entryOf("src/greeting.ts")), version(p.entryOf("src/name.ts"))]).toEqual(
      before,
    );
  });

  it("runs an edited file's new code on the next run, even at the same size and mtime", () => {
    const p = project();
    expect(output(p.run()).greeting).toBe("hello v1");
    const source = join(p.dir, "src", "name.ts");
    const { atime, mtime } = statSync(source);
    p.write("src/name.ts", 'export const name = "v2" as string;\n');
    utimesSync(source, atime, mtime);

    expect(output(p.run()).greeting).toBe("hello v2");
    // Only the edited module was compiled again.
    const greeting = version(p.entryOf("src/greeting.ts"));
    const name = version(p.entryOf("src/name.ts"));
    expect(output(p.run()).greeting).toBe("hello v2");
    expect([version(p.entryOf("src/greeting.ts")), version(p.entryOf("src/name.ts"))]).toEqual([
      greeting,
      name,
    ]);
  });

  it("a new module is compiled on first use", () => {
    const p = project();
    expect(output(p.run()).greeting).toBe("hello v1");
    p.write("src/other.ts", 'export const greeting: string = "a new module";\n');
    expect(output(p.run("./src/other")).greeting).toBe("a new module");
    expect(entries(p.cacheDir)).toContain("src/other.ts.js");
  });

  it("two checkouts that share a cache each run their own files", () => {
    const a = project();
    const b = project("repository", a.env.SYNTER_INFRA_TS_CACHE_DIR);
    for (const p of [a, b])
      p.write("src/where.ts", "export const greeting: string = __filename;\n");
    expect(output(a.run("./src/where")).greeting).toBe(join(a.dir, "src", "where.ts"));
    expect(output(b.run("./src/where")).greeting).toBe(join(b.dir, "src", "where.ts"));
    expect(a.cacheDir).not.toBe(b.cacheDir);
  });

  it("a half-written, corrupt or foreign entry is compiled again and rewritten, never run", () => {
    const p = project();
    expect(output(p.run()).greeting).toBe("hello v1");
    const entry = p.entryOf("src/name.ts");
    const good = readFileSync(entry);

    truncateSync(entry, Math.floor(good.length / 2));
    expect(output(p.run()).greeting).toBe("hello v1");
    expect(readFileSync(entry)).toEqual(good);

    // Same length, header intact, other code: the code's hash in the header catches it.
    const newline = good.indexOf(10);
    const forged = Buffer.concat([
      good.subarray(0, newline + 1),
      Buffer.from('exports.name = "stale";'.padEnd(good.length - newline - 1, " ")),
    ]);
    writeFileSync(entry, forged);
    expect(output(p.run()).greeting).toBe("hello v1");
    expect(readFileSync(entry)).toEqual(good);

    writeFileSync(entry, "not an entry at all");
    expect(output(p.run()).greeting).toBe("hello v1");
    expect(readFileSync(entry)).toEqual(good);

    // A leftover temporary file of a run that was killed mid-write is not an entry.
    writeFileSync(`${entry}.12345.abc.tmp`, good.subarray(0, 10));
    expect(output(p.run()).greeting).toBe("hello v1");
  });

  it("concurrent runs on an empty cache all run the right code and leave valid entries", async () => {
    const p = project();
    const runs = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<Run>((resolve) => {
            const child = spawn(process.execPath, ["entry.js"], { cwd: p.dir, env: p.env });
            let stdout = "";
            let stderr = "";
            child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
            child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
            child.on("close", (status) => resolve({ status, stdout, stderr }));
          }),
      ),
    );
    for (const run of runs) expect(output(run).greeting).toBe("hello v1");
    expect(entries(p.cacheDir)).toEqual(["src/greeting.ts.js", "src/name.ts.js"]);
    // Valid: the next run uses them as they are.
    const before = version(p.entryOf("src/name.ts"));
    expect(output(p.run()).greeting).toBe("hello v1");
    expect(version(p.entryOf("src/name.ts"))).toBe(before);
  });

  it("stack traces point into the .ts sources, also of a module a .js file loads", () => {
    const p = project();
    // Line 5 in the source; the compiled code is one line after the banner.
    p.write("src/boom.ts", '// a\n// b\n\n// c\nexport const error = new Error("boom");\n');
    p.write("src/bridge.js", 'module.exports = require("./boom");\n');
    const at = `${join(p.dir, "src", "boom.ts")}:5:`;
    expect(output(p.run("./src/boom")).greeting).toContain(at);
    expect(output(p.run("./src/bridge")).greeting).toContain(at);
  });

  it("a TypeScript syntax error fails the run and names the file and line", () => {
    const p = project();
    p.write("src/broken.ts", "export const greeting: string = ;\n");
    const run = p.run("./src/broken");
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("TransformError");
    expect(run.stderr).toContain(`${join(p.dir, "src", "broken.ts")}:1:`);
    expect(entries(p.cacheDir)).not.toContain("src/broken.ts.js");
  });

  it("falls back to tsx when esbuild cannot run", () => {
    const p = project("broken-esbuild");
    expect(output(p.run())).toEqual({ mode: "cache", greeting: "hello v1", tsx: true });
    expect(entries(p.cacheDir)).toEqual([]);
  });

  it("SYNTER_INFRA_TS_CACHE=off uses tsx", () => {
    const p = project();
    expect(output(p.run(undefined, { SYNTER_INFRA_TS_CACHE: "off" }))).toEqual({
      mode: "tsx",
      greeting: "hello v1",
      tsx: true,
    });
  });

  it("bin/synter-infra.js loads the CLI through it", () => {
    const cacheBase = mkdtempSync(join(tmpdir(), "synter-ts-cache-"));
    temporaryDirs.push(cacheBase);
    const run = spawnSync(process.execPath, [join(ROOT, "bin", "synter-infra.js"), "--version"], {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, SYNTER_INFRA_TS_CACHE: "", SYNTER_INFRA_TS_CACHE_DIR: cacheBase },
    });
    expect([run.status, run.stdout]).toEqual([
      0,
      `${readFileSync(join(ROOT, "package.json"), "utf8").match(/"version": "([^"]+)"/)![1]}\n`,
    ]);
    const cacheDir = withCacheBase(cacheBase, () => cacheDirectory(ROOT));
    expect(entries(cacheDir)).toEqual(
      expect.arrayContaining(["src/cli/main.ts.js", "src/cli/exit-codes.ts.js"]),
    );
  });
});
