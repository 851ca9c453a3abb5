/**
 * Every relative link in README.md and docs/*.md points at a file or directory of the repository,
 * resolved from the linking file's folder as GitHub resolves it; a `#fragment` is not checked.
 */
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "..", "..");

const MARKDOWN_FILES = [
  "README.md",
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`),
];

/** Inline `[text](target "title")` and reference `[label]: target` links, outside code. */
export function relativeLinks(markdown: string): string[] {
  const prose = markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "``");
  const targets = [
    ...[...prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+(?:"[^"]*"|'[^']*'))?\s*\)/g)].map(
      (m) => m[1]!,
    ),
    ...[...prose.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]!),
  ];
  return targets.filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t) && !t.startsWith("#"));
}

describe("markdown links inside the repository", () => {
  test("the link finder sees inline and reference links, and skips URLs, anchors and code", () => {
    expect(
      relativeLinks(
        [
          "See [a](docs/a.md), [b](../b.md#part 'x'), [c](https://x.test/c.md), [d](#top).",
          "`[e](in-code.md)`",
          "```",
          "[f](in-fence.md)",
          "```",
          '[g]: docs/g.md "G"',
          "[h]: mailto:someone@example.com",
        ].join("\n"),
      ),
    ).toEqual(["docs/a.md", "../b.md#part", "docs/g.md"]);
  });

  test.each(MARKDOWN_FILES)("%s: every relative link resolves", (file) => {
    const from = dirname(join(ROOT, file));
    const broken = relativeLinks(readFileSync(join(ROOT, file), "utf8")).filter((target) => {
      const path = resolve(from, decodeURI(target.split("#")[0]!));
      return !path.startsWith(`${ROOT}/`) || !existsSync(path);
    });
    expect(broken.map((t) => `${t} (from ${relative(ROOT, from) || "."})`)).toEqual([]);
  });
});
