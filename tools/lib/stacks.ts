/**
 * Stack files: which stacks a project directory defines, how the Pulumi CLI hands their
 * config to the program (the one reader of Pulumi.<stack>.yaml), the secrets a stack file
 * still lacks and the placeholders an offline run fills in for them.
 */
import * as fs from "fs";
import * as path from "path";
import { isMap, isScalar, isSeq, Node, parseDocument } from "yaml";
import { ConfigSource } from "../../infra/config";
import { setSecretHint } from "../../infra/config/reader";
import { requiredSecrets } from "../../infra/config/secrets";

export const ROOT = path.resolve(__dirname, "..", "..");
const PROJECT = "platform";

export function committedStacksIn(dir: string): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => !!s)
        .sort();
}

export interface StackConfig {
    /** `platform:key` → string, as the CLI hands config to a program. */
    values: Record<string, string>;
    /** Keys stored encrypted (`secure:`), wholly or in part (`--path` secrets inside a mapping). */
    secretKeys: string[];
}

/** The stack names that have a `Pulumi.<stack>.yaml` in `dir` (default: this repository). */
export function committedStacks(dir: string = ROOT): string[] {
    return committedStacksIn(dir);
}

export class UnknownStackError extends Error {}

/** Placeholder the offline run shows for an encrypted value it cannot decrypt. */
export const ENCRYPTED = "[encrypted]";

const isSecure = (v: unknown): boolean =>
    !!v &&
    typeof v === "object" &&
    !Array.isArray(v) &&
    Object.keys(v).length === 1 &&
    typeof (v as { secure?: unknown }).secure === "string";

/** Replaces `{secure: ciphertext}` leaves by a placeholder, noting whether any was found. */
function maskSecure(v: unknown, found: { secure: boolean }): unknown {
    if (isSecure(v)) {
        found.secure = true;
        return ENCRYPTED;
    }
    if (Array.isArray(v)) return v.map((x) => maskSecure(x, found));
    if (v && typeof v === "object")
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskSecure(x, found)]));
    return v;
}

/**
 * Parses a stack file's text into config exactly as the Pulumi CLI hands it to the program
 * (PULUMI_CONFIG: a JSON map of strings). The CLI first decodes each value into a Go string,
 * which keeps a YAML scalar's text as written (`1.10` stays "1.10", `0123456` and `3e12345`
 * too, `~` and an empty value become ""); only a value that is not a scalar is decoded as an
 * object and passed as JSON, `{secure: ...}` being a secret, and an object holding one a
 * secret object. Source: pulumi/pulumi sdk/go/common/resource/config/value.go
 * (`Value.unmarshalValue`: "First, try to unmarshal as a string", then `json.Marshal(obj)`,
 * `isSecureValue`, `hasSecureValue`); sdk/nodejs/runtime/config.ts reads the result from
 * the PULUMI_CONFIG environment variable as `{[key: string]: string}`. Nested values are
 * typed by YAML's core schema (numbers and booleans stay numbers and booleans inside JSON).
 */
export function parseStackFile(text: string, project: string = PROJECT): StackConfig {
    const doc = parseDocument(text);
    if (doc.errors.length > 0) throw new Error(`not valid YAML: ${doc.errors[0].message.split("\n")[0]}`);
    const values: Record<string, string> = {};
    const secretKeys: string[] = [];
    const root = doc.contents;
    const config = isMap(root) ? root.get("config", true) : undefined;
    if (config === undefined || config === null) return { values, secretKeys };
    if (!isMap(config)) throw new Error("config: expected a mapping of keys to values");
    for (const pair of config.items) {
        const k = String(isScalar(pair.key) ? pair.key.value : pair.key);
        const key = k.includes(":") ? k : `${project}:${k}`;
        const node = pair.value;
        if (node === null || node === undefined) {
            values[key] = "";
            continue;
        }
        if (isScalar(node)) {
            if (node.value === null) values[key] = "";
            else values[key] = node.type === "PLAIN" && node.source !== undefined ? node.source : String(node.value);
            continue;
        }
        const lossy = lossyNumber(node as Node, key);
        if (lossy) throw new Error(lossy);
        const found = { secure: false };
        const json = (node as { toJSON(): unknown }).toJSON();
        if (isSecure(json)) {
            secretKeys.push(key);
            values[key] = ENCRYPTED;
            continue;
        }
        values[key] = JSON.stringify(maskSecure(json, found));
        if (found.secure) secretKeys.push(key);
    }
    return { values, secretKeys };
}

/**
 * The first unquoted number inside a nested value whose text the number does not keep, as
 * one line: YAML reads `tag: 1.10` as 1.1, `2.0` as 2 and `0123456` as 123456, and the CLI
 * hands the program the number, so an unquoted tag would deploy another image. Top-level
 * scalars are safe (the CLI keeps their text); a number that keeps its text (8080) is fine.
 */
function lossyNumber(node: Node | null | undefined, at: string): string | undefined {
    if (isScalar(node)) {
        if (typeof node.value !== "number" || node.type !== "PLAIN" || node.source === undefined) return undefined;
        return node.source === String(node.value)
            ? undefined
            : `${at}: ${node.source} is read as the number ${String(node.value)} (YAML drops what a number does not keep); expected the text as written — quote it: "${node.source}"`;
    }
    if (isMap(node)) {
        for (const pair of node.items) {
            const k = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
            const found = lossyNumber(pair.value as Node, `${at}.${k}`);
            if (found) return found;
        }
    }
    if (isSeq(node)) {
        for (const [i, item] of node.items.entries()) {
            const found = lossyNumber(item as Node, `${at}[${i}]`);
            if (found) return found;
        }
    }
    return undefined;
}

/** Reads `dir`/Pulumi.<stack>.yaml (default: this repository's) the way the CLI presents it to the program. */
export function readStackConfig(stack: string, dir: string = ROOT): StackConfig {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!/^[a-z0-9-]+$/.test(stack) || !fs.existsSync(file)) {
        throw new UnknownStackError(
            `unknown stack ${JSON.stringify(stack)}: no Pulumi.${stack}.yaml here (stacks: ${committedStacks(dir).join(", ")})`,
        );
    }
    try {
        return parseStackFile(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new UnknownStackError(`Pulumi.${stack}.yaml: ${(e as Error).message}`);
    }
}

/**
 * Secrets the stack needs (requiredSecrets) but the offline run cannot hold, filled with
 * their placeholders so it can build the stack. They are marked secret and shown as
 * "[secret]". A key the stack file already sets is left alone: a plain-text secret there
 * must reach the config check and be refused, not be papered over.
 */
export function offlineSecrets(values: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    const entries: Record<string, string> = {};
    for (const s of requiredSecrets((k) => values[`${PROJECT}:${k}`])) {
        if (values[`${PROJECT}:${s.key}`] !== undefined) continue;
        if (s.entry === undefined) out[`${PROJECT}:${s.key}`] = s.placeholder;
        else entries[s.entry] = s.placeholder;
    }
    if (Object.keys(entries).length > 0) out[`${PROJECT}:appSecrets`] = JSON.stringify(entries);
    return out;
}

/**
 * The `pulumi config set --secret` commands a stack file still needs (requiredSecrets not
 * stored encrypted), then a `pulumi config rm` for each app secret no service asks for
 * (the config check refuses those).
 */
export function secretsLeft(stack: string, cfg: StackConfig): string[] {
    const val = (k: string) => cfg.values[`${PROJECT}:${k}`] ?? "";
    let held: string[] = [];
    try {
        const raw = val("appSecrets");
        held = raw === "" || raw === ENCRYPTED ? [] : Object.keys(JSON.parse(raw) as object);
    } catch {
        held = [];
    }
    const needed = requiredSecrets((k) => cfg.values[`${PROJECT}:${k}`]);
    const out = needed
        .filter((s) =>
            s.entry === undefined ? !cfg.secretKeys.includes(`${PROJECT}:${s.key}`) : !held.includes(s.entry),
        )
        .map(
            (s) =>
                `${setSecretHint(s.key, stack, s.entry)}   # prompts for ${s.prompt}${s.because ? `; needed because ${s.because}` : ""}`,
        );
    for (const n of held)
        if (!needed.some((s) => s.entry === n)) out.push(`pulumi config rm --path 'appSecrets.${n}' --stack ${stack}`);
    return out;
}

/** A ConfigSource over `platform:key` values, as the CLI would hand them to the program. */
export function configSource(values: Record<string, string>, secretKeys: Iterable<string>): ConfigSource {
    const secret = new Set(secretKeys);
    return {
        get: (k) => values[`${PROJECT}:${k}`],
        isSecret: (k) => secret.has(`${PROJECT}:${k}`),
        keys: () =>
            Object.keys(values)
                .filter((k) => k.startsWith(`${PROJECT}:`))
                .map((k) => k.slice(PROJECT.length + 1)),
    };
}
