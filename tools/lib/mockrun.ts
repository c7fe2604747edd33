/**
 * Runs the real program under the SDK's mock runtime with a stack's committed config and
 * records every resource it registers: inputs, which inputs are secret, and the options
 * that matter for safety (protect, retainOnDelete, ignoreChanges, deleteBeforeReplace,
 * dependsOn). Shared by the offline plan and the test suite. No CLI, no credentials, no
 * network.
 */
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

/** How the SDK marks a secret value in serialized properties (its public runtime exports). */
const { specialSigKey: SIG_KEY, specialSecretSig: SECRET_SIG } = pulumi.runtime;

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
    const placeholders = opts.noPlaceholders
        ? {}
        : offlineSecrets({
              ...values,
              ...Object.fromEntries(Object.entries(opts.overrides ?? {}).map(([k, v]) => [qualify(k), v])),
          });
    Object.assign(values, placeholders);
    for (const [k, v] of Object.entries(opts.overrides ?? {})) values[qualify(k)] = v;
    const secretKeys = [...cfg.secretKeys, ...Object.keys(placeholders), ...(opts.secretKeys ?? []).map(qualify)];

    // The program validates its config before registering anything; doing the same check
    // here first turns a config mistake into a plain rejection instead of a failed stack
    // registration the runtime would report as an unhandled error.
    parseSettings(configSource(values, secretKeys), stack);

    // A run is a function of the stack and its config alone, so one process runs each distinct
    // input once (in memory: nothing outlives the process). Runs share the SDK's global
    // runtime, so they go one after another. Each caller gets its own copy.
    const key = JSON.stringify([stack, Object.entries(values).sort(), [...new Set(secretKeys)].sort()]);
    let run = runs.get(key);
    if (!run) {
        run = lastRun.catch(() => undefined).then(() => recordOnce(stack, values, secretKeys));
        runs.set(key, run);
        lastRun = run;
    }
    return structuredClone(await run);
}

const runs = new Map<string, Promise<RecordedStack>>();
let lastRun: Promise<unknown> = Promise.resolve();

async function recordOnce(stack: string, values: Record<string, string>, secretKeys: string[]): Promise<RecordedStack> {
    const registered = new Map<string, RecordedResource>();
    const registrationOrder: string[] = [];
    pulumi.runtime.setAllConfig(values, secretKeys);
    await pulumi.runtime.setMocks(
        {
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
                const forcing = JSON.stringify(
                    replacementIdentity(
                        args.type,
                        rec?.inputs ?? (args.inputs as Record<string, unknown>),
                        rec?.opts.ignoreChanges,
                    ),
                );
                const id = fakeId(args.type, `${stable}::${forcing.split(stack).join("<stack>")}`);
                if (rec) rec.id = id;
                return { id, state: mockState(args.type, stable, rec?.inputs ?? args.inputs, id) };
            },
            call: (args) => mockCall(args.token, args.inputs),
        },
        PROJECT,
        stack,
        false,
    );

    // Only the program's entry point is loaded afresh: it reads the config at module scope.
    // The modules it imports (components, config parsing) keep no state between runs, so
    // they load once per process; a second copy of @pulumi/pulumi would silently bypass the
    // mocks. The previous run's entry is also dropped from its parent's `children`, where
    // Node keeps it (and everything it built) alive.
    const inProgram = (file: string) => file === PROGRAM;
    for (const k of Object.keys(require.cache)) {
        if (inProgram(k)) delete require.cache[k];
    }
    for (const m of Object.values(require.cache)) {
        if (m && m.children.some((c) => inProgram(c.id))) m.children = m.children.filter((c) => !inProgram(c.id));
    }

    return { ...(await runProgram(stack, registered)), registrationOrder };
}

async function runProgram(stack: string, registered: Map<string, RecordedResource>): Promise<RecordedStack> {
    const stackOutputs = await pulumi.runtime.runInPulumiStack(async () => {
        pulumi.runtime.registerStackTransformation((t) => {
            const o = t.opts as pulumi.CustomResourceOptions;
            const deps = Array.isArray(o.dependsOn) ? o.dependsOn : o.dependsOn ? [o.dependsOn] : [];
            const rec: RecordedResource = {
                type: t.type,
                name: t.name,
                id: "",
                custom: t.resource instanceof pulumi.CustomResource,
                inputs: { ...t.props },
                secretInputs: [],
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
        return require(PROGRAM);
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
    return {
        stack,
        resources: [...registered.values()].filter((r) => r.type !== "pulumi:pulumi:Stack"),
        outputs,
        secretOutputs,
    };
}
