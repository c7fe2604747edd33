/**
 * Typed reads over the raw config the CLI hands the program. Defaults come from the KEYS
 * table; a value of the wrong shape fails here with one line naming the key. What a value
 * means (a region, a CIDR, a rule across keys) is the parse steps' business, not this file's.
 */
import { KEYS, Key, KeyDef, PROJECT, RETIRED_KEYS, StackName } from "./schema";
import { closest, ConfigError, fail, intInRange } from "./validate";

/** Raw config as the CLI passes it: every value a string (lists and objects as JSON). */
export interface ConfigSource {
    get(key: Key): string | undefined;
    /** Whether the key was stored encrypted (`pulumi config set --secret`). */
    isSecret(key: Key): boolean;
    /**
     * Every key set in this program's namespace (without the `platform:` prefix), so a
     * misspelt key is refused instead of silently leaving the default in force.
     */
    keys?(): string[];
}

/** What every parse step knows besides the config: which stack, and its resource name prefix. */
export interface ParseContext {
    stack: StackName;
    /** `platform-<stack>`: the prefix of every cloud resource name. */
    prefix: string;
}

/** A key as the CLI and error messages spell it: `platform:<key>`. */
export const q = (k: Key) => `${PROJECT}:${k}`;

/** The command that stores a secret (an `appSecrets` entry by name); without a value on its command line, the CLI prompts for it. */
export function setSecretHint(key: Key, stack: string, entry = "NAME"): string {
    return key === "appSecrets"
        ? `pulumi config set --secret --path 'appSecrets.${entry}' --stack ${stack}`
        : `pulumi config set --secret ${key} --stack ${stack}`;
}

const def = (key: Key): KeyDef => KEYS[key];

/** A required key that is not set (or empty, for a mapping): one line with the fix. */
export function missing(key: Key, stack: string): never {
    const fix = def(key).fix?.replace("<stack>", stack);
    throw new ConfigError(
        q(key),
        fix
            ? `${q(key)}: is not set; expected ${fix}`
            : `${q(key)}: is not set; it is required (${KEYS[key].description}) — run: pulumi config set ${key} <value> --stack ${stack}`,
    );
}

export class Reader {
    constructor(
        private readonly src: ConfigSource,
        private readonly stack: string,
    ) {}

    private raw(key: Key): string | undefined {
        const v = this.src.get(key);
        // An encrypted value on a key that is not a secret would otherwise be judged by its
        // ciphertext (or its offline placeholder): "not a valid region".
        if (v !== undefined && !def(key).secret && this.src.isSecret(key)) {
            throw new ConfigError(
                q(key),
                `${q(key)}: is stored encrypted, but it is not a secret and is read as plain text; expected a plain value — run: pulumi config set ${key} <value> --stack ${this.stack} (without --secret)`,
            );
        }
        if (v === undefined && def(key).required && !def(key).secret) missing(key, this.stack);
        return v;
    }

    str(key: Key): string {
        const v = this.raw(key);
        if (v === undefined) return String(def(key).default ?? "");
        return v.trim() === v ? v : fail(q(key), v, "expected no leading or trailing spaces");
    }

    nonEmpty(key: Key): string {
        const v = this.str(key);
        return v === "" ? fail(q(key), v, "expected a non-empty string") : v;
    }

    int(key: Key, min: number, max: number): number {
        const v = this.raw(key);
        if (v === undefined) return def(key).default as number;
        if (!/^-?\d+$/.test(v)) return fail(q(key), v, `expected a whole number from ${min} to ${max}`);
        return intInRange(q(key), Number(v), min, max);
    }

    bool(key: Key): boolean {
        const v = this.raw(key);
        if (v === undefined) return def(key).default as boolean;
        if (v !== "true" && v !== "false") return fail(q(key), v, "expected true or false");
        return v === "true";
    }

    json(key: Key): unknown {
        const v = this.raw(key);
        if (v === undefined) return def(key).default;
        try {
            return JSON.parse(v);
        } catch {
            return fail(q(key), v, `expected ${KEYS[key].type === "array" ? "a YAML list" : "a YAML mapping"}`);
        }
    }

    strings(key: Key, opts: { min?: number; each?: (s: string) => boolean; what?: string } = {}): string[] {
        const v = this.json(key);
        if (!Array.isArray(v) || v.some((x) => typeof x !== "string"))
            return fail(q(key), v, "expected a list of strings");
        const list = v as string[];
        if (list.length < (opts.min ?? 0))
            return fail(q(key), list, `expected at least ${opts.min} ${opts.what ?? "entry"}`);
        const bad = opts.each ? list.find((s) => !opts.each!(s)) : undefined;
        if (bad !== undefined) return fail(q(key), bad, `expected each entry to be ${opts.what ?? "valid"}`);
        if (new Set(list).size !== list.length) return fail(q(key), list, "expected no duplicates");
        return list;
    }

    object(key: Key): Record<string, unknown> {
        const v = this.json(key);
        if (typeof v !== "object" || v === null || Array.isArray(v))
            return fail(q(key), v, "expected a mapping of names to values");
        return v as Record<string, unknown>;
    }

    /** Presence of a secret, checking it was stored encrypted. Its value is never read here. */
    secretPresent(key: Key): boolean {
        const v = this.src.get(key);
        // Pulumi.yaml declares optional secrets with an empty default.
        if (v === undefined || v === "" || v === "{}") return false;
        if (!this.src.isSecret(key)) {
            throw new ConfigError(
                q(key),
                `${q(key)}: is stored in plain text but must be a secret — run: ${setSecretHint(key, this.stack)} (and remove the plain value from Pulumi.${this.stack}.yaml)`,
            );
        }
        return true;
    }

    /** The names of the filled entries of a secret mapping (`appSecrets`); none when it is unset. */
    secretEntries(key: Key): string[] {
        return this.secretPresent(key) ? (this.secretEntryNames(key) ?? []) : [];
    }

    /**
     * Whether the key holds a value other than its default. Pulumi.yaml declares defaults,
     * which the CLI passes along as if set, so "set" means "differs from the default".
     */
    isSet(key: Key): boolean {
        const v = this.src.get(key);
        if (v === undefined) return false;
        const d = def(key).default;
        if (d === undefined) return v !== "";
        return v !== (typeof d === "string" ? d : JSON.stringify(d)) && !(typeof d === "object" && isEmptyJson(v));
    }

    /** The names of a secret mapping's filled entries (see filledKeys); the values stay here. */
    secretEntryNames(key: Key): string[] | undefined {
        return filledKeys(this.src.get(key) ?? "{}");
    }
}

/** `[]` or `{}` however it is spaced: an empty list or mapping, as the default of one. */
function isEmptyJson(v: string): boolean {
    try {
        const p = JSON.parse(v);
        return typeof p === "object" && p !== null && Object.keys(p).length === 0;
    } catch {
        return false;
    }
}

/**
 * The names of a secret mapping's entries that hold a non-empty string, or undefined when it
 * is not a mapping. The values are dropped here and never leave this function.
 */
export function filledKeys(raw: string): string[] | undefined {
    let parsed: unknown;
    try {
        parsed = JSON.parse(raw);
    } catch {
        return undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
    return Object.entries(parsed)
        .filter(([, v]) => typeof v === "string" && v !== "")
        .map(([k]) => k);
}

/**
 * A key in this program's namespace that the schema does not declare is a typo or a
 * leftover; the CLI passes it along silently and the default would quietly apply.
 */
export function checkKnownKeys(keys: readonly string[], stack: string): void {
    const known = Object.keys(KEYS);
    for (const k of keys) {
        if (known.includes(k)) continue;
        if (RETIRED_KEYS[k]) {
            throw new ConfigError(
                `${PROJECT}:${k}`,
                `${PROJECT}:${k}: was retired: ${RETIRED_KEYS[k]}; remove it (pulumi config rm ${k} --stack ${stack})`,
            );
        }
        const near = closest(k, known, 1)[0];
        throw new ConfigError(
            `${PROJECT}:${k}`,
            `${PROJECT}:${k}: is not a key this program reads; expected a declared key — did you mean ${near}? Rename it in Pulumi.${stack}.yaml (or run: pulumi config rm ${k} --stack ${stack})`,
        );
    }
}
