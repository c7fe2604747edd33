/**
 * A prior state for plan tests, made from the engine's own preview of the stack from empty
 * state: every resource the preview would create becomes a resource of an imported
 * deployment (`pulumi stack import`), with inputs as outputs and deterministic ids. Values
 * the preview could not know yet (ids, addresses) get stable placeholders, so a later
 * preview diffs only what the config change itself changes.
 */
import * as crypto from "crypto";
import { PreviewDigest } from "./harness";

/** The engine's marker for a value unknown during preview (sdk/go/common/resource/plugin: UnknownStringValue). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

interface StateResource {
    urn: string; custom: boolean; type: string; id?: string; parent?: string; provider?: string;
    inputs: Record<string, unknown>; outputs: Record<string, unknown>; protect?: boolean;
    dependencies?: string[]; propertyDependencies?: Record<string, string[]>;
}

function idFor(urn: string, type: string): string {
    const hex = crypto.createHash("sha1").update(urn).digest("hex");
    // Droplet ids are numbers in DigitalOcean's API, and the program converts them.
    return type === "digitalocean:index/droplet:Droplet" ? String(parseInt(hex.slice(0, 8), 16)) : hex.slice(0, 24);
}

/** Replaces unknowns with stable placeholders, recursively. */
export function known(v: unknown, at: string): unknown {
    if (v === UNKNOWN) return `placeholder-${crypto.createHash("sha1").update(at).digest("hex").slice(0, 12)}`;
    if (Array.isArray(v)) return v.map((x, i) => known(x, `${at}[${i}]`));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, known(x, `${at}.${k}`)]));
    return v;
}

/** A `pulumi stack import` deployment holding what `preview` would have created. */
export function deploymentFromPreview(preview: PreviewDigest, secretsProviderState: Record<string, unknown>): unknown {
    const ids = new Map<string, string>();
    const resources: StateResource[] = [];
    for (const step of preview.steps ?? []) {
        if (step.op !== "create" && step.op !== "same") continue;
        const s = step.newState as (PreviewDigest["steps"] & object)[number]["newState"] & {
            urn?: string; custom?: boolean; parent?: string; provider?: string; protect?: boolean; dependencies?: string[]; propertyDependencies?: Record<string, string[]>;
        };
        if (!s?.type) continue;
        const urn = s.urn ?? step.urn;
        const custom = s.custom ?? true;
        const id = custom ? idFor(urn, s.type) : undefined;
        if (id) ids.set(urn, id);
        const inputs = known(s.inputs ?? {}, urn) as Record<string, unknown>;
        resources.push({
            urn, custom, type: s.type, id, parent: s.parent, provider: s.provider, inputs, outputs: { ...inputs },
            protect: s.protect, dependencies: s.dependencies, propertyDependencies: s.propertyDependencies,
        });
    }
    // Provider references are `urn::id`; the preview's ids were unknown.
    for (const r of resources) {
        if (!r.provider) continue;
        const sep = r.provider.lastIndexOf("::");
        const providerUrn = r.provider.slice(0, sep);
        r.provider = `${providerUrn}::${ids.get(providerUrn) ?? idFor(providerUrn, "provider")}`;
    }
    return {
        version: 3,
        deployment: {
            manifest: { time: new Date(0).toISOString(), magic: "", version: "" },
            secrets_providers: { type: "passphrase", state: secretsProviderState },
            resources,
        },
    };
}
