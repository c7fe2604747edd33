/**
 * `npm run engine:build [-- --json] [--out DIR]`
 *
 * Builds the real Pulumi engine (CLI + Node.js language host) and the provider plugins from
 * the Go module proxy, as pinned in tools/engine/pins.json and the wrapper modules' go.sum,
 * into an ignored folder (default `.engine/bin`). Go's default caches (~/go/pkg/mod,
 * ~/.cache/go-build) are used as they are, so a second build, or CI on the same machine,
 * takes minutes instead of the better part of an hour.
 *
 * A binary whose module the proxy refuses cannot be built: it is listed as "not built" with
 * the proxy's answer, never faked. `.engine/manifest.json` records what was built, so the
 * engine tier (`npm run test:engine`) knows what it can run and reports the rest as not run.
 *
 * Exit: 0 everything built; 3 built all it could, some modules refused by the proxy;
 * 1 a build failed; 2 usage error.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

const HELP = `Usage: npm run engine:build [-- --json] [--out <dir>]

Builds pulumi, pulumi-language-nodejs and the provider plugins pinned in
tools/engine/pins.json from the Go module proxy into <dir>/bin (default .engine),
reusing Go's default module and build caches, and writes <dir>/manifest.json.
  --json   print the manifest as JSON on stdout (progress goes to stderr)
  --out    output folder (default .engine, gitignored)
Exit: 0 all built, 3 some modules refused by the proxy (the rest built), 1 build failed, 2 usage.`;

export interface Pin {
    name: string;
    role: string;
    /** Wrapper module under tools/engine/; absent when no module can be had. */
    dir?: string;
    module: string;
    version: string;
    package?: string;
    tags?: string;
    ldflags?: string;
    npm: string;
    note: string;
}

export interface Built { name: string; role: string; module: string; version: string; npm: string; path: string; seconds: number }
export interface NotBuilt { name: string; role: string; module: string; version: string; npm: string; reason: string; note: string }

export interface Manifest {
    builtAt: string;
    go: string;
    seconds: number;
    /** `pulumi version` of the built CLI, when it was built. */
    cliVersion?: string;
    built: Built[];
    notBuilt: NotBuilt[];
}

export const MANIFEST = "manifest.json";

export function readPins(file = path.join(__dirname, "pins.json")): Pin[] {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { binaries: Pin[] }).binaries;
}

/** The exit code of a build: partial when only proxy refusals are missing. */
export function exitCodeOf(m: Pick<Manifest, "notBuilt">): number {
    if (m.notBuilt.length === 0) return 0;
    return m.notBuilt.every((n) => n.reason.startsWith("refused by the module proxy")) ? 3 : 1;
}

/**
 * One line from `go mod download -json` for a module the proxy does not serve. Go prints
 * the proxy's answer ("403 Forbidden ... not available", or a checksum-database 404).
 */
export function proxyAnswer(downloadJson: string): string | undefined {
    try {
        const err = (JSON.parse(downloadJson) as { Error?: string }).Error;
        if (!err) return undefined;
        // Drop Go's "module@version: reading <url>:" prefix: the report names the module already.
        return err.split("\n").map((s) => s.trim()).filter(Boolean).join(" ")
            .replace(/^\S+@\S+: verifying go\.mod: \S+: reading \S+: /, "checksum database lookup: ")
            .replace(/^\S+@\S+: reading \S+: /, "");
    } catch {
        return downloadJson.trim().split("\n")[0] || "no answer";
    }
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { code: number; out: string; err: string } {
    const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return { code: r.status ?? 1, out: r.stdout ?? "", err: (r.stderr ?? "") + (r.error ? String(r.error.message) : "") };
}

function buildOne(pin: Pin, binDir: string, log: (s: string) => void): Built | NotBuilt {
    const base = { name: pin.name, role: pin.role, module: pin.module, version: pin.version, npm: pin.npm };
    if (!pin.dir || !pin.package) {
        // No wrapper module can exist without the module itself: ask the proxy for the exact
        // version, so the report says what it answered today rather than what we assumed.
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "engine-probe-"));
        const r = run("go", ["mod", "download", "-json", `${pin.module}@${pin.version}`], tmp);
        fs.rmSync(tmp, { recursive: true, force: true });
        const answer = proxyAnswer(r.out) ?? (r.code === 0 ? undefined : r.err.trim().split("\n")[0]);
        const reason = answer === undefined
            ? "served by the module proxy, but no wrapper module is written for it yet (tools/engine/pins.json has no dir)"
            : `refused by the module proxy: ${answer}`;
        log(`  ${pin.name}: NOT BUILT (${pin.module}@${pin.version})`);
        return { ...base, reason, note: pin.note };
    }
    const started = Date.now();
    const out = path.join(binDir, pin.name);
    const args = ["build", "-o", out];
    if (pin.tags) args.push("-tags", pin.tags);
    if (pin.ldflags) args.push("-ldflags", pin.ldflags);
    args.push(pin.package);
    log(`  ${pin.name}: building ${pin.package} (${pin.module}@${pin.version}) ...`);
    // CGO off as in upstream release builds: static binaries that need no C toolchain.
    const r = run("go", args, path.join(__dirname, pin.dir), { ...process.env, CGO_ENABLED: "0" });
    const seconds = Math.round((Date.now() - started) / 1000);
    if (r.code !== 0) {
        const reason = `go build failed: ${r.err.trim().split("\n").slice(-3).join(" | ")}`;
        log(`  ${pin.name}: FAILED after ${seconds}s: ${reason}`);
        return { ...base, reason, note: pin.note };
    }
    log(`  ${pin.name}: built in ${seconds}s`);
    return { ...base, path: path.relative(ROOT, out), seconds };
}

export function main(argv: string[]): number {
    const json = argv.includes("--json");
    const outAt = argv.indexOf("--out");
    if (argv.includes("-h") || argv.includes("--help")) { process.stdout.write(`${HELP}\n`); return 0; }
    const unknown = argv.filter((a, i) => a.startsWith("-") && !["--json", "--out"].includes(a) && !(i === outAt + 1 && outAt >= 0));
    if (unknown.length > 0 || (outAt >= 0 && !argv[outAt + 1])) {
        process.stderr.write(`error: ${unknown.length ? `unknown argument ${unknown[0]}` : "--out needs a folder"}\n${HELP}\n`);
        return 2;
    }
    const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);
    const goVersion = run("go", ["version"], ROOT);
    if (goVersion.code !== 0) { process.stderr.write("error: go is not on PATH: install Go 1.25 or newer\n"); return 2; }

    const outDir = path.resolve(ROOT, outAt >= 0 ? argv[outAt + 1] : ".engine");
    const binDir = path.join(outDir, "bin");
    fs.mkdirSync(binDir, { recursive: true });
    const started = Date.now();
    log(`engine build (${goVersion.out.trim()}) into ${path.relative(ROOT, binDir) || binDir}`);

    const results = readPins().map((p) => buildOne(p, binDir, log));
    const manifest: Manifest = {
        builtAt: new Date().toISOString(),
        go: goVersion.out.trim(),
        seconds: Math.round((Date.now() - started) / 1000),
        built: results.filter((r): r is Built => "path" in r),
        notBuilt: results.filter((r): r is NotBuilt => "reason" in r),
    };
    const cli = manifest.built.find((b) => b.name === "pulumi");
    if (cli) {
        const v = run(path.join(ROOT, cli.path), ["version"], ROOT, { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" });
        manifest.cliVersion = v.out.trim();
        if (v.code !== 0 || !manifest.cliVersion) {
            manifest.built = manifest.built.filter((b) => b !== cli);
            manifest.notBuilt.unshift({ name: cli.name, role: cli.role, module: cli.module, version: cli.version, npm: cli.npm, reason: `built, but \`pulumi version\` failed: ${v.err.trim().split("\n")[0]}`, note: "" });
        }
    }
    fs.writeFileSync(path.join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);

    log("");
    log(`built (${manifest.seconds}s in all):`);
    for (const b of manifest.built) log(`  ${b.name.padEnd(30)} ${b.module}@${b.version}  (SDK ${b.npm})`);
    if (manifest.cliVersion) log(`  pulumi version: ${manifest.cliVersion}`);
    if (manifest.notBuilt.length) {
        log("NOT built:");
        for (const n of manifest.notBuilt) log(`  ${n.name.padEnd(30)} ${n.module}@${n.version}  (SDK ${n.npm}): ${n.reason}`);
    }
    if (json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    return exitCodeOf(manifest);
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
