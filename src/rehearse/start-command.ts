/**
 * A Railway start command becomes the container's argv by shell-like word splitting (quotes and
 * backslashes), not by a shell: `$VAR` is NOT expanded and `&&` is a plain word. That is why our
 * Redis start command wraps itself in `/bin/sh -c '...'` to read `$REDIS_PASSWORD`; the rehearsal
 * runs it the same way, so a command that only works under a shell fails here as it would there.
 */

export function splitStartCommand(command: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < command.length; i++) {
    const char = command[i];
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
      continue;
    }
    if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === "\\" && i + 1 < command.length && '"\\$`'.includes(command[i + 1])) {
        word += command[++i];
      } else word += char;
      continue;
    }
    if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      continue;
    }
    inWord = true;
    if (char === "'" || char === '"') quote = char;
    else if (char === "\\" && i + 1 < command.length) word += command[++i];
    else word += char;
  }
  if (quote) throw new Error(`the start command has an unterminated ${quote} quote: ${command}`);
  if (inWord) words.push(word);
  return words;
}
