// posixpath, as Python's (node's path.posix differs: dirname('/a/b/'), '//' at the start).

/** Python's `os.path.split`. */
export function pySplitPath(p: string): [string, string] {
  const i = p.lastIndexOf("/") + 1;
  let head = p.slice(0, i);
  if (head && !/^\/+$/.test(head)) head = head.replace(/\/+$/, "");
  return [head, p.slice(i)];
}

/** Python's `os.path.join` for two parts. */
export function pyJoin(a: string, b: string): string {
  if (b.startsWith("/")) return b;
  return !a || a.endsWith("/") ? a + b : `${a}/${b}`;
}

/** Python's `os.path.normpath`. */
export function pyNormpath(path: string): string {
  if (!path) return ".";
  const initial = path.startsWith("/") ? (path.startsWith("//") && !path.startsWith("///") ? 2 : 1) : 0;
  const out: string[] = [];
  for (const comp of path.split("/")) {
    if (comp === "" || comp === ".") continue;
    if (comp !== ".." || (!initial && out.length === 0) || out[out.length - 1] === "..") out.push(comp);
    else if (out.length > 0) out.pop();
  }
  return "/".repeat(initial) + out.join("/") || ".";
}

/** Python's `os.path.abspath`. */
export function pyAbspath(p: string, cwd: string): string {
  return pyNormpath(p.startsWith("/") ? p : pyJoin(cwd, p));
}

/** os.path.expanduser for `~` and `~/…` (`~user` is left as is: no user database here). */
export function expandUser(p: string, home: string): string {
  if (!p.startsWith("~")) return p;
  const slash = p.indexOf("/", 1);
  const i = slash < 0 ? p.length : slash;
  if (i !== 1) return p;
  return home.replace(/\/+$/, "") + p.slice(i) || "/";
}
