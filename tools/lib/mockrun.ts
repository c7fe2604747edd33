/**
 * Runs the real program under the SDK's mock runtime with a stack's committed config and
 * records every resource it registers: inputs, which inputs are secret, and the options
 * that matter for safety (protect, retainOnDelete, ignoreChanges, deleteBeforeReplace,
 * dependsOn). Shared by the offline plan and the test suite. No CLI, no credentials, no
 * network.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseSettings } from "../../infra/config";
import { replacementIdentity } from "../../infra/lifecycle/semantics";
import { mockCall, mockState, fakeId } from "./mockstate";
import { configSource, offlineSecrets, readStackConfig, ROOT } from "./stacks";

const PROGRAM = path.join(ROOT, "infra", "index.ts");
const PROJECT = "platform";

export interface RecordedOptions {
    protect: boolean;
    retainOnDelete: boolean;
    /** As the program set it; undefined leaves the provider's default (infra/lifecycle: deletesFirst). */
    deleteBeforeReplace?: boolean;
    ignoreChanges: string[];
    /** Inputs the program makes force a replacement, beyond the provider's own. */
    replaceOnChanges: string[];
    /** Logical names of explicit dependencies. */
    dependsOn: string[];
    /** Logical name of the parent component, if any. */
    parent?: string;
    /** Logical name of an explicit provider, if any. */
    provider?: string;
}

export interface RecordedResource {
    type: string;
    name: string;
    /** The id the mock gave it (empty for components). */
    id: string;
    custom: boolean;
    /** Inputs as the provider would receive them (secrets unwrapped: never print these raw). */
    inputs: Record<string, unknown>;
    /** Top-level input names whose value is secret. */
    secretInputs: string[];
    opts: RecordedOptions;
}

export interface RecordedStack {
    stack: string;
    resources: RecordedResource[];
    /**
     * Custom resources as `type::name` in the order the engine was asked to create them: a
     * resource is sent once all its inputs are known, so this shows what waits for what.
     */
    registrationOrder?: string[];
    /** Stack outputs, with secret ones replaced by "[secret]". */
    outputs: Record<string, unknown>;
    /** Names of the outputs that are secret. */
    secretOutputs: string[];
}

type Internal = { __name?: string };
const nameOf = (r: unknown): string | undefined => (r as Internal | undefined)?.__name;

/** The SDK marks a secret value in serialized properties with this signature. */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

/** Unwraps serialized secrets, noting whether any was found. */
function unwrapSecrets(value: unknown, found: { secret: boolean }): unknown {
    if (Array.isArray(value)) return value.map((v) => unwrapSecrets(v, found));
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o[SIG_KEY] === SECRET_SIG) {
            found.secret = true;
            return unwrapSecrets(o.value, found);
        }
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, unwrapSecrets(v, found)]));
    }
    return value;
}

export interface RecordOptions {
    /** Config overrides, `key` or `platform:key` → string (lists and objects as JSON). */
    overrides?: Record<string, string>;
    /** Keys to drop from the committed config. */
    unset?: string[];
    /** Extra keys to mark secret (for tests feeding secrets). */
    secretKeys?: string[];
    /** Skip the offline secret placeholders (tests of missing secrets). */
    noPlaceholders?: boolean;
    /** Directory holding the Pulumi.<stack>.yaml files (default: this repository). Tests pass their fixtures. */
    configDir?: string;
}

/** Runs the program for `stack` under mocks and returns what it registered. */
export async function recordStack(stack: string, opts: RecordOptions = {}): Promise<RecordedStack> {
    const cfg = readStackConfig(stack, opts.configDir);
    const values: Record<string, string> = { ...cfg.values };
    const qualify = (k: string) => (k.includes(":") ? k : `${PROJECT}:${k}`);
    for (const k of opts.unset ?? []) delete values[qualify(k)];
    const placeholders = opts.noPlaceholders ? {} : offlineSecrets({ ...values, ...Object.fromEntries(Object.entries(opts.overrides ?? {}).map(([k, v]) => [qualify(k), v])) });
    Object.assign(values, placeholders);
    for (const [k, v] of Object.entries(opts.overrides ?? {})) values[qualify(k)] = v;
    const secretKeys = [...cfg.secretKeys, ...Object.keys(placeholders), ...(opts.secretKeys ?? []).map(qualify)];

    // The program validates its config before registering anything; doing the same check
    // here first turns a config mistake into a plain rejection instead of a failed stack
    // registration the runtime would report as an unhandled error.
    parseSettings(configSource(values, secretKeys), stack);

    const cached = readCache(stack, values, secretKeys);
    if (cached?.rec) return cached.rec;
    // Traces off is most of a run's speed (see recordOnce); a failed run is repeated with
    // them on, so its error shows where in the program it came from.
    let rec: RecordedStack;
    try {
        rec = await recordOnce(stack, values, secretKeys, false);
    } catch (fast) {
        await recordOnce(stack, values, secretKeys, true);
        throw fast;
    }
    return writeCache(cached?.file, rec);
}

/**
 * Recordings kept between test runs, like tsc's incremental build: a run's result is a
 * pure function of the stack, its config values and secret keys, the program's sources
 * (infra/), this recorder and its fake provider, and the installed packages
 * (package-lock.json), so it is stored under a hash of all of them and reused until one
 * changes. Every recording, new or reused, is the same JSON round trip, so a test sees no
 * difference between the two. Off with PLATFORM_MOCKRUN_CACHE=0 (CI starts without it).
 */
const CACHE_DIR = path.join(ROOT, "node_modules", ".cache", "mockruns");
let sourcesDigest: string | undefined;

function digestOfSources(): string {
    if (sourcesDigest) return sourcesDigest;
    const h = crypto.createHash("sha256");
    const walk = (dir: string): string[] => fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]);
    const files = [...walk(path.join(ROOT, "infra")), ...["mockrun.ts", "mockstate.ts", "stacks.ts"].map((f) => path.join(__dirname, f)), path.join(ROOT, "package-lock.json")].sort();
    for (const f of files) h.update(f).update("\0").update(fs.readFileSync(f)).update("\0");
    h.update(process.version);
    sourcesDigest = h.digest("hex");
    return sourcesDigest;
}

function readCache(stack: string, values: Record<string, string>, secretKeys: string[]): { file: string; rec?: RecordedStack } | undefined {
    if (process.env.PLATFORM_MOCKRUN_CACHE === "0") return undefined;
    const key = crypto.createHash("sha256").update(JSON.stringify([digestOfSources(), stack, Object.entries(values).sort(), [...secretKeys].sort()])).digest("hex");
    const file = path.join(CACHE_DIR, `${key}.json`);
    try {
        return { file, rec: JSON.parse(fs.readFileSync(file, "utf8")) as RecordedStack };
    } catch {
        return { file };
    }
}

function writeCache(file: string | undefined, rec: RecordedStack): RecordedStack {
    const json = JSON.stringify(rec);
    if (file) {
        try {
            fs.mkdirSync(CACHE_DIR, { recursive: true });
            // Written whole, then renamed: a parallel worker reads the old file or the new one.
            const tmp = `${file}.${process.pid}.tmp`;
            fs.writeFileSync(tmp, json);
            fs.renameSync(tmp, file);
        } catch { /* a cache that cannot be written only costs time */ }
    }
    return JSON.parse(json) as RecordedStack;
}

async function recordOnce(stack: string, values: Record<string, string>, secretKeys: string[], traces: boolean): Promise<RecordedStack> {
    const registered = new Map<string, RecordedResource>();
    const registrationOrder: string[] = [];
    pulumi.runtime.setAllConfig(values, secretKeys);
    await pulumi.runtime.setMocks({
        newResource: (args) => {
            const key = `${args.type}::${args.name}`;
            registrationOrder.push(key);
            const rec = registered.get(key);
            if (rec) {
                rec.inputs = {};
                rec.secretInputs = [];
                for (const [k, v] of Object.entries(args.inputs as Record<string, unknown>)) {
                    const found = { secret: false };
                    rec.inputs[k] = unwrapSecrets(v, found);
                    if (found.secret) rec.secretInputs.push(k);
                }
            }
            // Ids and addresses do not depend on the stack name, so two stacks' recordings
            // compare equal where their programs are equal.
            const stable = args.name.split(stack).join("<stack>");
            // A replaced resource is a new one with a new id, as for real: the id follows the
            // inputs that force replacement (infra/lifecycle/semantics.ts), so a replacement
            // reaches everything that reads the id, as it does in a real plan.
            const forcing = JSON.stringify(replacementIdentity(args.type, rec?.inputs ?? (args.inputs as Record<string, unknown>), rec?.opts.ignoreChanges));
            const id = fakeId(args.type, `${stable}::${forcing.split(stack).join("<stack>")}`);
            if (rec) rec.id = id;
            return { id, state: mockState(args.type, stable, rec?.inputs ?? args.inputs, id) };
        },
        call: (args) => mockCall(args.token, args.inputs),
    }, PROJECT, stack, false);

    // Only the program's own modules are reloaded: a second copy of @pulumi/pulumi would
    // silently bypass the mocks. The previous run's modules are also dropped from their
    // parents' `children`, where Node keeps them (and everything they built) alive.
    const inProgram = (file: string) => file.startsWith(path.join(ROOT, "infra") + path.sep);
    for (const k of Object.keys(require.cache)) {
        if (inProgram(k)) delete require.cache[k];
    }
    for (const m of Object.values(require.cache)) {
        if (m && m.children.some((c) => inProgram(c.id))) m.children = m.children.filter((c) => !inProgram(c.id));
    }

    // The SDK captures a stack trace for every promise it makes and every resource it
    // registers (for leak reports and source positions, which the mocks ignore); capturing
    // them, and formatting them through ts-node's source-map support, was most of a run's
    // time. Unless `traces`, no frame is captured while the program runs, and the SDK's own
    // message-less traces (it asks for all frames of those) are not formatted.
    const saved = { prepare: Error.prepareStackTrace, limit: Error.stackTraceLimit };
    if (!traces) {
        Error.stackTraceLimit = 0;
        Error.prepareStackTrace = (err, frames) => (err.message === "" && err.constructor === Error ? "Error" : [String(err), ...frames.map((f) => `    at ${f}`)].join("\n"));
    }
    try {
        return { ...(await runProgram(stack, registered)), registrationOrder };
    } finally {
        Error.prepareStackTrace = saved.prepare;
        Error.stackTraceLimit = saved.limit;
    }
}

/** Each program file as ts-node transpiled it, by path, with the file's mtime then. */
const transpiled = new Map<string, { mtimeMs: number; code: string }>();

type Loader = (m: NodeJS.Module & { _compile(code: string, file: string): unknown }, file: string) => void;

/**
 * Runs `load` (a require) with TypeScript files transpiled at most once per process: each
 * run requires the program afresh, and ts-node would transpile every file again. The code
 * is what ts-node made of the same unchanged file (its source map still applies); without
 * ts-node's loader (compiled code) this does nothing.
 */
function withTranspiledOnce<T>(load: () => T): T {
    const extensions = require.extensions as unknown as Record<string, Loader | undefined>;
    const tsLoader = extensions[".ts"];
    if (!tsLoader) return load();
    extensions[".ts"] = (m, file) => {
        const { mtimeMs } = fs.statSync(file);
        const hit = transpiled.get(file);
        if (hit && hit.mtimeMs === mtimeMs) {
            m._compile(hit.code, file);
            return;
        }
        // ts-node's loader hands its output to the module's _compile: keep it on the way.
        const compile = m._compile;
        m._compile = function (code: string, fileName: string) {
            transpiled.set(file, { mtimeMs, code });
            return compile.call(this, code, fileName);
        };
        tsLoader(m, file);
    };
    try {
        return load();
    } finally {
        extensions[".ts"] = tsLoader;
    }
}

async function runProgram(stack: string, registered: Map<string, RecordedResource>): Promise<RecordedStack> {
    const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((t) => {
            const o = t.opts as pulumi.CustomResourceOptions;
            const deps = Array.isArray(o.dependsOn) ? o.dependsOn : o.dependsOn ? [o.dependsOn] : [];
            const rec: RecordedResource = {
                type: t.type, name: t.name, id: "", custom: t.resource instanceof pulumi.CustomResource,
                inputs: { ...t.props }, secretInputs: [],
                opts: {
                    protect: o.protect === true,
                    retainOnDelete: o.retainOnDelete === true,
                    deleteBeforeReplace: o.deleteBeforeReplace,
                    ignoreChanges: o.ignoreChanges ?? [],
                    replaceOnChanges: o.replaceOnChanges ?? [],
                    dependsOn: (deps as unknown[]).map(nameOf).filter((n): n is string => !!n),
                    parent: nameOf(o.parent),
                    provider: nameOf(o.provider),
                },
            };
            registered.set(`${t.type}::${t.name}`, rec);
            return undefined;
        });
        // A fresh require per run: the program reads config at module scope.
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        return withTranspiledOnce(() => require(PROGRAM));
    });
    const rt = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
    await rt.waitForRPCs?.();

    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const exported = require(PROGRAM) as Record<string, unknown>;
    const outputs: Record<string, unknown> = {};
    const secretOutputs: string[] = [];
    for (const [k, v] of Object.entries(stackOutputs ?? {})) {
        const src = exported[k];
        const secret = src !== undefined && (await pulumi.isSecret(pulumi.output(src)));
        if (secret) secretOutputs.push(k);
        outputs[k] = secret ? "[secret]" : v;
    }
    return { stack, resources: [...registered.values()].filter((r) => r.type !== "pulumi:pulumi:Stack"), outputs, secretOutputs };
}
