/**
 * `npm run engine:build [-- --json] [--out DIR]`
 *
 * Builds the real Pulumi CLI, our own minimal Node.js language host and the stand-in
 * provider plugin from the Go module proxy, as pinned in tools/engine/pins.json and the
 * wrapper modules' go.sum, into an ignored folder (default `.engine/bin`), then installs the
 * stand-in under each provider SDK's plugin name and the exact version package.json pins
 * (`pulumi plugin install resource NAME VERSION --file BIN`, into `.engine/home`). Go's
 * default caches (~/go/pkg/mod, ~/.cache/go-build) are used as they are, so a second
 * build, or CI on the same machine, takes minutes instead of the better part of an hour.
 *
 * The real provider plugins cannot be built: the module proxy refuses their modules
 * (pins.json `standInFor` records which and why). The stand-in is labelled as such in the
 * manifest and in every engine-tier report line.
 *
 * Exit: 0 everything built and installed; 1 a build or install failed; 2 usage error.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..", "..");

const HELP = `Usage: npm run engine:build [-- --json] [--out <dir>]

Builds pulumi, pulumi-language-nodejs (our minimal host) and the stand-in provider
pinned in tools/engine/pins.json from the Go module proxy into <dir>/bin (default
.engine), reusing Go's default module and build caches; installs the stand-in under each
provider SDK's plugin name and version into <dir>/home; writes <dir>/manifest.json.
  --json   print the manifest as JSON on stdout (progress goes to stderr)
  --out    output folder (default .engine, gitignored)
Exit: 0 all built and installed, 1 a build or install failed, 2 usage.`;

/** A real provider the stand-in is installed for: its SDK, and its Go module the proxy refuses. */
export interface StandInFor {
    plugin: string;
    sdk: string;
    module: string;
    version: string;
    why: string;
}

export interface Pin {
    name: string;
    role: string;
    /** Wrapper module under tools/engine/. */
    dir: string;
    module: string;
    version: string;
    package: string;
    tags?: string;
    ldflags?: string;
    npm: string;
    note: string;
    standInFor?: StandInFor[];
}

export interface Built {
    name: string;
    role: string;
    module: string;
    version: string;
    npm: string;
    path: string;
    seconds: number;
}
export interface NotBuilt {
    name: string;
    role: string;
    module: string;
    version: string;
    npm: string;
    reason: string;
    note: string;
}

/** A stand-in installed as a provider plugin: never the real provider. */
export interface StandIn {
    plugin: string;
    version: string;
    sdk: string;
    realModule: string;
}

export interface Manifest {
    builtAt: string;
    go: string;
    seconds: number;
    /** `pulumi version` of the built CLI, when it was built. */
    cliVersion?: string;
    built: Built[];
    notBuilt: NotBuilt[];
    /** Provider plugins installed in <out>/home as STAND-INS (tools/engine/plugins/standin). */
    standIns: StandIn[];
}

/** The PULUMI_HOME the build installs the stand-ins into. */
export const HOME = "home";

export const MANIFEST = "manifest.json";

export function readPins(file = path.join(__dirname, "pins.json")): Pin[] {
    return (JSON.parse(fs.readFileSync(file, "utf8")) as { binaries: Pin[] }).binaries;
}

/** The exit code of a build: anything not built or not installed is a failure. */
export function exitCodeOf(m: Pick<Manifest, "notBuilt">): number {
    return m.notBuilt.length === 0 ? 0 : 1;
}

function run(
    cmd: string,
    args: string[],
    cwd: string,
    env: NodeJS.ProcessEnv = process.env,
): { code: number; out: string; err: string } {
    const r = spawnSync(cmd, args, { cwd, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
    return {
        code: r.status ?? 1,
        out: r.stdout ?? "",
        err: (r.stderr ?? "") + (r.error ? String(r.error.message) : ""),
    };
}

function buildOne(pin: Pin, binDir: string, log: (s: string) => void): Built | NotBuilt {
    const base = { name: pin.name, role: pin.role, module: pin.module, version: pin.version, npm: pin.npm };
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

/**
 * Installs each stand-in under the plugin name and the version package.json pins for its
 * SDK, into <out>/home (a PULUMI_HOME the engine tier links in). A failed install is a
 * failed build.
 */
function installStandIns(manifest: Manifest, outDir: string, log: (s: string) => void): void {
    const home = path.join(outDir, HOME);
    // Only what this build installs: an older SDK version's plugin must not linger.
    fs.rmSync(path.join(home, "plugins"), { recursive: true, force: true });
    const sdks = (
        JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { dependencies: Record<string, string> }
    ).dependencies;
    const cli = path.join(ROOT, manifest.built.find((b) => b.name === "pulumi")!.path);
    for (const pin of readPins()) {
        const built = manifest.built.find((b) => b.name === pin.name);
        if (!built) continue;
        for (const f of pin.standInFor ?? []) {
            const version = sdks[f.sdk];
            const r =
                version === undefined
                    ? { code: 1, out: "", err: `${f.sdk} is not a dependency in package.json` }
                    : run(
                          cli,
                          ["plugin", "install", "resource", f.plugin, version, "--file", path.join(ROOT, built.path)],
                          ROOT,
                          { ...process.env, PULUMI_HOME: home, PULUMI_SKIP_UPDATE_CHECK: "true" },
                      );
            if (r.code !== 0) {
                const reason = `stand-in install as ${f.plugin} failed: ${(r.err || r.out).trim().split("\n").slice(-2).join(" | ")}`;
                log(`  ${reason}`);
                manifest.notBuilt.push({
                    name: `pulumi-resource-${f.plugin}`,
                    role: "provider",
                    module: f.module,
                    version: version ?? "",
                    npm: f.sdk,
                    reason,
                    note: pin.note,
                });
                continue;
            }
            manifest.standIns.push({ plugin: f.plugin, version, sdk: f.sdk, realModule: `${f.module}@${f.version}` });
        }
    }
}

export function main(argv: string[]): number {
    const json = argv.includes("--json");
    const outAt = argv.indexOf("--out");
    if (argv.includes("-h") || argv.includes("--help")) {
        process.stdout.write(`${HELP}\n`);
        return 0;
    }
    const unknown = argv.filter(
        (a, i) => a.startsWith("-") && !["--json", "--out"].includes(a) && !(i === outAt + 1 && outAt >= 0),
    );
    if (unknown.length > 0 || (outAt >= 0 && !argv[outAt + 1])) {
        process.stderr.write(
            `error: ${unknown.length ? `unknown argument ${unknown[0]}` : "--out needs a folder"}\n${HELP}\n`,
        );
        return 2;
    }
    const log = (s: string) => (json ? process.stderr : process.stdout).write(`${s}\n`);
    const goVersion = run("go", ["version"], ROOT);
    if (goVersion.code !== 0) {
        process.stderr.write("error: go is not on PATH: install Go 1.25 or newer\n");
        return 2;
    }

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
        standIns: [],
    };
    const cli = manifest.built.find((b) => b.name === "pulumi");
    if (cli) {
        const v = run(path.join(ROOT, cli.path), ["version"], ROOT, {
            ...process.env,
            PULUMI_SKIP_UPDATE_CHECK: "true",
        });
        manifest.cliVersion = v.out.trim();
        if (v.code !== 0 || !manifest.cliVersion) {
            manifest.built = manifest.built.filter((b) => b !== cli);
            manifest.notBuilt.unshift({
                name: cli.name,
                role: cli.role,
                module: cli.module,
                version: cli.version,
                npm: cli.npm,
                reason: `built, but \`pulumi version\` failed: ${v.err.trim().split("\n")[0]}`,
                note: "",
            });
        }
    }
    if (manifest.cliVersion) installStandIns(manifest, outDir, log);
    manifest.seconds = Math.round((Date.now() - started) / 1000);
    fs.writeFileSync(path.join(outDir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);

    log("");
    log(`built (${manifest.seconds}s in all):`);
    for (const b of manifest.built)
        log(`  ${b.name.padEnd(30)} ${b.module}@${b.version}  (${b.npm ? `SDK ${b.npm}` : b.role})`);
    if (manifest.cliVersion) log(`  pulumi version: ${manifest.cliVersion}`);
    for (const i of manifest.standIns)
        log(
            `  STAND-IN installed as ${i.plugin} v${i.version} (for ${i.sdk}; real module ${i.realModule} refused by the proxy)`,
        );
    if (manifest.notBuilt.length) {
        log("NOT built:");
        for (const n of manifest.notBuilt)
            log(`  ${n.name.padEnd(30)} ${n.module}@${n.version}  (SDK ${n.npm}): ${n.reason}`);
    }
    if (json) process.stdout.write(`${JSON.stringify(manifest, null, 2)}\n`);
    return exitCodeOf(manifest);
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
