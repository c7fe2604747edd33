/**
 * The engine tier's plumbing: runs the CLI built by `npm run engine:build` on a throwaway
 * copy of the project (the real Pulumi.yaml, infra/ and node_modules linked in), with a
 * local file backend, the passphrase secrets provider and no credentials, so nothing here
 * reaches a cloud or the Pulumi service. The provider plugins are the build's STAND-INS
 * (tools/engine/plugins/standin), installed under each SDK's plugin version: a run here
 * shows what the engine does with the program, never what a cloud would accept.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { PROVIDER_SEMANTICS } from "../../infra/lifecycle/semantics";
import { HOME, Manifest, MANIFEST } from "../../tools/engine/build";

export const ROOT = path.resolve(__dirname, "..", "..");
export const ENGINE_DIR = path.resolve(ROOT, process.env.ENGINE_DIR ?? ".engine");
export const BIN = path.join(ENGINE_DIR, "bin");

/** The passphrase of the throwaway stacks: it protects placeholder secrets only. */
const PASSPHRASE = "engine-tier-throwaway-passphrase";

export function readManifest(): Manifest | undefined {
    const file = path.join(ENGINE_DIR, MANIFEST);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, "utf8")) as Manifest) : undefined;
}

/** Why the tier cannot run at all, or undefined when it can. */
export function engineMissing(m: Manifest | undefined): string | undefined {
    if (!m)
        return `engine not built: no ${path.relative(ROOT, path.join(ENGINE_DIR, MANIFEST))} — run \`npm run engine:build\` first`;
    for (const name of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-standin"]) {
        const built = m.built.find((b) => b.name === name);
        if (!built)
            return `engine not built: ${name} is missing (${m.notBuilt.find((n) => n.name === name)?.reason ?? "not in the manifest"})`;
        if (!fs.existsSync(path.join(BIN, name)))
            return `engine not built: ${path.join(BIN, name)} is gone — run \`npm run engine:build\``;
    }
    if (m.notBuilt.length > 0)
        return `engine build incomplete: ${m.notBuilt.map((n) => `${n.name}: ${n.reason}`).join("; ")}`;
    if (m.standIns.length === 0) return "engine build installed no stand-in providers — run `npm run engine:build`";
    return undefined;
}

/** What every report line says about the providers: stand-ins, never the real ones. */
export function standInLabel(m: Manifest): string {
    return `STAND-IN providers (${m.standIns.map((s) => `${s.plugin} ${s.version}`).join(", ")})`;
}

/**
 * The stand-in's facts, from the program's own sources (one home each): replacements from
 * infra/lifecycle/semantics.ts; auto-naming for the types whose SDK declares `name`
 * optional (the Terraform bridge makes an auto-named `name` optional in the schema).
 */
export function standInTable(): {
    types: Record<string, { replaceOn: readonly string[]; replaceOnAllExcept?: readonly string[] }>;
    autoName: string[];
} {
    const types = Object.fromEntries(
        Object.entries(PROVIDER_SEMANTICS).map(([t, s]) => [
            t,
            { replaceOn: s.replaceOn, replaceOnAllExcept: s.replaceOnAllExcept },
        ]),
    );
    const autoName = Object.keys(PROVIDER_SEMANTICS).filter((token) => {
        const [pkg, mod, res] = token.split(":");
        const file = mod.startsWith("index/")
            ? mod.slice("index/".length)
            : `${mod}/${res[0].toLowerCase()}${res.slice(1)}`;
        const dts = path.join(ROOT, "node_modules", "@pulumi", pkg, `${file}.d.ts`);
        const args = new RegExp(`export interface ${res}Args \\{([\\s\\S]*?)\\n\\}`).exec(
            fs.readFileSync(dts, "utf8"),
        )?.[1];
        if (args === undefined) throw new Error(`no ${res}Args in ${dts}: cannot tell whether ${token} is auto-named`);
        return /^\s+name\?:/m.test(args);
    });
    return { types, autoName };
}

export interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

/** Values of a stack file: plain values as YAML values, secrets set through the CLI. */
export interface StackFixture {
    config: Record<string, unknown>;
    secrets: Record<string, string>;
}

export class EngineProject {
    readonly dir: string;
    private readonly home: string;
    private readonly state: string;
    private readonly env: NodeJS.ProcessEnv;
    private logs = 0;

    constructor(private readonly extraEnv: Record<string, string> = {}) {
        const base = fs.mkdtempSync(path.join(os.tmpdir(), "engine-tier-"));
        this.dir = path.join(base, "project");
        this.home = path.join(base, "home");
        this.state = path.join(base, "state");
        for (const d of [this.dir, this.home, this.state]) fs.mkdirSync(d, { recursive: true });
        // The stand-ins the build installed, shared read-only; the rest of the home is this run's.
        fs.symlinkSync(path.join(ENGINE_DIR, HOME, "plugins"), path.join(this.home, "plugins"));
        const table = path.join(base, "standin-table.json");
        fs.writeFileSync(table, JSON.stringify(standInTable()));
        for (const f of ["Pulumi.yaml", "package.json", "tsconfig.json"])
            fs.copyFileSync(path.join(ROOT, f), path.join(this.dir, f));
        // Linked, not copied: the program and its one copy of @pulumi/pulumi are the repo's.
        for (const d of ["infra", "node_modules"]) fs.symlinkSync(path.join(ROOT, d), path.join(this.dir, d));

        // Only what the CLI and node need: no cloud or Pulumi credentials reach the engine.
        const keep = ["HOME", "USER", "LANG", "TMPDIR", "NODE_OPTIONS"];
        this.env = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
        Object.assign(this.env, {
            PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}`,
            PULUMI_HOME: this.home,
            PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            // A missing plugin must fail here, not be downloaded from the internet.
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            PULUMI_STANDIN_TABLE: table,
            // Makes `--event-log` available, as the Automation API does.
            PULUMI_DEBUG_COMMANDS: "true",
            ...extraEnv,
        });
    }

    pulumi(args: string[], input?: string): Run {
        const r = spawnSync(path.join(BIN, "pulumi"), [...args, "--non-interactive"], {
            cwd: this.dir,
            env: this.env,
            input,
            encoding: "utf8",
            maxBuffer: 256 * 1024 * 1024,
            timeout: 15 * 60_000,
        });
        return {
            code: r.status ?? 1,
            stdout: r.stdout ?? "",
            stderr: `${r.stderr ?? ""}${r.error ? r.error.message : ""}`,
        };
    }

    /** Logs in to the file backend and creates `stack` with the fixture's config. */
    initStack(stack: string, fx: StackFixture): void {
        must(this.pulumi(["login", "--cloud-url", `file://${this.state}`]), "login");
        must(this.pulumi(["stack", "init", stack, "--secrets-provider", "passphrase"]), `stack init ${stack}`);
        this.writeConfig(stack, fx);
    }

    /** Rewrites the stack file (keeping its encryption salt) and sets the secrets via stdin. */
    writeConfig(stack: string, fx: StackFixture): void {
        const file = path.join(this.dir, `Pulumi.${stack}.yaml`);
        const salt = /^encryptionsalt: .*$/m.exec(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "")?.[0];
        const config = Object.fromEntries(
            Object.entries(fx.config).map(([k, v]) => [k.includes(":") ? k : `platform:${k}`, v]),
        );
        fs.writeFileSync(file, `${salt ? `${salt}\n` : ""}${stringify({ config })}`);
        for (const [k, v] of Object.entries(fx.secrets)) {
            // The value goes through stdin: never on a command line.
            must(
                this.pulumi(
                    [
                        "config",
                        "set",
                        "--secret",
                        "--stack",
                        stack,
                        ...(k.includes(".") ? ["--path"] : []),
                        k.includes(":") ? k : `platform:${k}`,
                    ],
                    v,
                ),
                `config set --secret ${k}`,
            );
        }
    }

    /** `pulumi preview --json` as parsed JSON, or the failed run. */
    preview(stack: string, extra: string[] = []): { run: Run; digest?: PreviewDigest; events: EngineEvent[] } {
        const log = this.eventLog();
        const run = this.pulumi(["preview", "--stack", stack, "--json", "--event-log", log, ...extra]);
        let digest: PreviewDigest | undefined;
        try {
            digest = JSON.parse(run.stdout) as PreviewDigest;
        } catch {
            digest = undefined;
        }
        return { run, digest, events: readEvents(log) };
    }

    private eventLog(): string {
        return path.join(path.dirname(this.dir), `events-${++this.logs}.jsonl`);
    }

    /**
     * `pulumi up` without its own preview (the engine still plans every step), with the
     * engine's event log: the order in which it finished steps is the order of provider calls.
     */
    up(stack: string, extra: string[] = []): { run: Run; events: EngineEvent[] } {
        const log = this.eventLog();
        const run = this.pulumi(["up", "--stack", stack, "--yes", "--skip-preview", "--event-log", log, ...extra]);
        return { run, events: readEvents(log) };
    }

    /** The stack's state as `pulumi stack export` gives it. */
    exportState(stack: string): {
        urn: string;
        type: string;
        id?: string;
        inputs?: Record<string, unknown>;
        outputs?: Record<string, unknown>;
        protect?: boolean;
    }[] {
        const r = this.pulumi(["stack", "export", "--stack", stack]);
        must(r, "stack export");
        return (
            (JSON.parse(r.stdout) as { deployment: { resources?: ReturnType<EngineProject["exportState"]> } })
                .deployment.resources ?? []
        );
    }

    dispose(): void {
        fs.rmSync(path.dirname(this.dir), { recursive: true, force: true });
    }
}

/** The parts of the CLI's PreviewDigest (`pulumi preview --json`) the tests read. */
export interface PreviewDigest {
    steps?: {
        op: string;
        urn: string;
        oldState?: { type?: string } | null;
        newState?: { type?: string; inputs?: Record<string, unknown> } | null;
        replaceReasons?: string[];
        detailedDiff?: Record<string, { kind: string }> | null;
    }[];
    diagnostics?: { message: string; severity: string; urn?: string }[];
    changeSummary?: Record<string, number>;
}

function readEvents(log: string): EngineEvent[] {
    return fs.existsSync(log)
        ? fs
              .readFileSync(log, "utf8")
              .split("\n")
              .filter(Boolean)
              .map((l) => JSON.parse(l) as EngineEvent)
        : [];
}

/** The parts of an engine event (`--event-log`, one JSON object a line) the tests read. */
export interface EngineEvent {
    sequence: number;
    resourcePreEvent?: { metadata: StepMetadata };
    resOutputsEvent?: { metadata: StepMetadata };
    policyEvent?: {
        resourceUrn?: string;
        message: string;
        policyName: string;
        policyPackName: string;
        enforcementLevel: string;
    };
    /** One per resource the policy pack analyzed. */
    policyAnalyzeSummaryEvent?: { resourceUrn: string; policyPackName: string; passed?: string[]; failed?: string[] };
    diagnosticEvent?: { message: string; severity: string; urn?: string };
}

export interface StepMetadata {
    op: string;
    urn: string;
    type: string;
    diffs?: string[];
    keys?: string[];
}

export function must(r: Run, what: string): void {
    if (r.code !== 0) throw new Error(`pulumi ${what} failed (exit ${r.code}): ${lastLines(r.stderr || r.stdout)}`);
}

export function lastLines(s: string, n = 6): string {
    return s.trim().split("\n").slice(-n).join(" | ");
}
