/**
 * Staging must mirror prod: same program, same topology, only declared per-stack knobs
 * differ. This compares two recorded stacks and classifies every difference as a declared
 * knob (a config key marked with a knob in infra/config/schema.ts) or as unexpected.
 */
import { KEYS, Key, KeyDef, Knob, PROJECT } from "../../infra/config/schema";
import { cidrsOverlap } from "../../infra/config/validate";
import { RecordedResource, RecordedStack } from "./mockrun";
import { StackConfig } from "./stacks";
import { TYPES } from "../../infra/lifecycle/types";

export interface ParityDiff {
    /** `type::name` with the stack name replaced by `<stack>`. */
    resource: string;
    property: string;
    a: unknown;
    b: unknown;
    /** The config key explaining the difference, when it is a declared knob. */
    knob?: { key: string; kind: Knob };
    expected: boolean;
}

export interface ParityReport {
    a: string;
    b: string;
    /** Resources present in one stack only. */
    onlyIn: { stack: string; resource: string; knob?: { key: string; kind: Knob }; expected: boolean }[];
    diffs: ParityDiff[];
    /**
     * What the differences come from, said once and naming the key: a one-server stack
     * facing a multi-server one (another edge), or VPC ranges that overlap.
     */
    causes: { key: string; message: string; blocking: boolean }[];
    unexpected: number;
}

/** Which config key drives a resource's count, by type (or type and name suffix). */
const COUNT_KNOBS: { type: RegExp; name?: RegExp; key: Key }[] = [
    { type: /^digitalocean:index\/droplet:Droplet$/, key: "serverCount" },
    { type: /^tailscale:index\/tailnetKey:TailnetKey$/, key: "serverCount" },
    { type: /^(docker:|pulumi:providers:docker$|command:local:Command$)/, name: /-web-\d+-/, key: "serverCount" },
    { type: /^docker:index\/container:Container$/, key: "services" },
];

/** Which config key explains a property, by resource type and top-level input name. */
const PROPERTY_KNOBS: Record<string, Record<string, Key>> = {
    [TYPES.droplet]: { size: "serverSize", backups: "serverBackups", backupPolicy: "serverBackups" },
    [TYPES.cluster]: { size: "dbSize", nodeCount: "dbNodeCount" },
    // Names derived from the inputs that force a replacement (see infra/lifecycle) follow those inputs.
    [TYPES.pool]: { size: "dbPoolSize", name: "dbPoolSize" },
    [TYPES.vpc]: { ipRange: "vpcIpRange", name: "vpcIpRange" },
    [TYPES.cert]: { name: "frontendHost" },
    [TYPES.lb]: { forwardingRules: "frontendHost" },
    [TYPES.dns]: { name: "frontendHost" },
    [TYPES.firewall]: { outboundRules: "vpcIpRange" },
    // The description carries a fingerprint of the server's hostname and tags.
    [TYPES.tailnetKey]: { tags: "tailscaleTags", description: "tailscaleTags" },
    [TYPES.container]: { memory: "services" },
    [TYPES.environment]: {
        reviewers: "githubReviewers",
        preventSelfReview: "githubReviewers",
        waitTimer: "githubWaitTimerMinutes",
    },
};

/** Properties derived from the stack's own name (an implicit per-stack knob). */
const STACK_DERIVED: Record<string, string[]> = { [TYPES.project]: ["environment"] };

const knobOf = (key: Key) => {
    const kind = (KEYS[key] as KeyDef).knob;
    return kind ? { key, kind } : undefined;
};

/** Every value a knob key holds in a stack, with its placeholder. */
function stackValues(stack: string, cfg: StackConfig): [string, string][] {
    const get = (k: Key): unknown => {
        const raw = cfg.values[`${PROJECT}:${k}`];
        if (raw === undefined) return undefined;
        try {
            return (KEYS[k] as KeyDef).type === "string" ? raw : JSON.parse(raw);
        } catch {
            return raw;
        }
    };
    const domain = String(get("domain") ?? "");
    const pairs: [string, string][] = [
        [`${PROJECT}-${stack}`, `${PROJECT}-<stack>`],
        [stack, "<stack>"],
    ];
    for (const [k, d] of Object.entries(KEYS) as [Key, KeyDef][]) {
        if (!d.knob || d.secret) continue;
        const v = get(k);
        const strings = Array.isArray(v) ? v.map(String) : typeof v === "string" ? [v] : [];
        for (const s of strings) {
            // Record names only mean something as full names: `api` alone is too common a word.
            const value = k === "frontendHost" || k === "apiHost" ? (s === "@" ? domain : `${s}.${domain}`) : s;
            pairs.push([value, `<${k}>`]);
        }
    }
    return pairs.sort((x, y) => y[0].length - x[0].length);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");

/**
 * Replaces knob values by placeholders: a string equal to one always; inside longer strings
 * only where it stands as a whole token and is specific enough (the stack name, or six
 * characters, or a dotted/dashed name), so `prod` in `prod-web-1` is replaced but a log
 * level `info` inside `docker info` is not.
 */
function normalize(value: unknown, pairs: [string, string][], stack: string): unknown {
    // Droplet ids reach other inputs as numbers.
    if (typeof value === "number") return pairs.find(([from]) => from === String(value))?.[1] ?? value;
    if (typeof value === "string") {
        const whole = pairs.find(([from]) => from === value);
        if (whole) return whole[1];
        let s = value;
        for (const [from, to] of pairs) {
            if (from !== stack && from.length < 6 && !/[.:-]/.test(from)) continue;
            if (!s.includes(from)) continue;
            s = s.replace(new RegExp(`(?<![A-Za-z0-9_])${escape(from)}(?![A-Za-z0-9_])`, "g"), to);
        }
        return s;
    }
    if (Array.isArray(value)) return value.map((v) => normalize(v, pairs, stack));
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, normalize(v, pairs, stack)]));
    }
    return value;
}

const logicalKey = (r: RecordedResource, stack: string) => `${r.type}::${r.name.split(stack).join("<stack>")}`;

function countKnob(r: RecordedResource) {
    const hit = COUNT_KNOBS.find((c) => c.type.test(r.type) && (!c.name || c.name.test(r.name)));
    return hit ? knobOf(hit.key) : undefined;
}

/**
 * Provider ids name the same logical resource differently in each stack (a container with
 * a different memory limit is a different container): references to them compare by the
 * resource they point at. Auto-names carry the id's first characters, so those map too.
 */
function idValues(rec: RecordedStack): [string, string][] {
    return rec.resources
        .filter((r) => r.id.length >= 6)
        .flatMap((r) => {
            const ref = `<id:${logicalKey(r, rec.stack)}>`;
            return [
                [r.id, ref],
                [r.id.slice(0, 7), ref],
            ] as [string, string][];
        });
}

/**
 * The count knob explaining why two lists differ, when they are equal once the entries
 * referring to resources that exist in one stack only (by that knob) are left out.
 */
function countedList(
    a: unknown,
    b: unknown,
    counted: Map<string, { key: string; kind: Knob }>,
): { key: string; kind: Knob } | undefined {
    if (!Array.isArray(a) || !Array.isArray(b) || counted.size === 0) return undefined;
    let knob: { key: string; kind: Knob } | undefined;
    const keep = (list: unknown[]) =>
        list.filter((x) => {
            const s = JSON.stringify(x);
            const hit = [...counted.entries()].find(([ref]) => s.includes(ref));
            if (hit) knob = hit[1];
            return !hit;
        });
    const ka = keep(a);
    const kb = keep(b);
    return knob && JSON.stringify(ka) === JSON.stringify(kb) ? knob : undefined;
}

/** Fields of a service that may differ between mirrored stacks: which release runs, and memory (tuning). */
const SERVICE_KNOBS = ["tag", "digest", "pin", "memoryMb"];

/**
 * A stack file's services as mirrored stacks must share them: without release and memory
 * fields, each route's host replaced by its role (`<frontendHost>`, `<apiHost>`). Services
 * are one key, so this is where staging's web, api and their routes are held to prod's.
 */
export function serviceShape(cfg: StackConfig): unknown {
    const get = (k: string) => cfg.values[`${PROJECT}:${k}`];
    let raw: unknown;
    try {
        raw = JSON.parse(get("services") ?? "{}");
    } catch {
        return get("services");
    }
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return raw;
    const domain = get("domain") ?? "";
    const full = (h: string | undefined) => (h === "@" ? domain : `${h}.${domain}`);
    const roles: Record<string, string> = {
        [full(get("frontendHost"))]: "<frontendHost>",
        [full(get("apiHost"))]: "<apiHost>",
    };
    return Object.fromEntries(
        Object.entries(raw as Record<string, Record<string, unknown>>)
            .sort(([x], [y]) => x.localeCompare(y))
            .map(([name, svc]) => {
                if (typeof svc !== "object" || svc === null) return [name, svc];
                const kept = Object.fromEntries(Object.entries(svc).filter(([k]) => !SERVICE_KNOBS.includes(k)));
                if (Array.isArray(kept.routes)) {
                    kept.routes = kept.routes.map((r) =>
                        typeof r === "string" ? r.replace(/^[^/]+/, (h) => roles[h.toLowerCase()] ?? h) : r,
                    );
                }
                if (kept.processes && typeof kept.processes === "object") {
                    kept.processes = Object.fromEntries(
                        Object.entries(kept.processes as Record<string, Record<string, unknown>>).map(([p, spec]) => [
                            p,
                            typeof spec === "object" && spec !== null
                                ? Object.fromEntries(Object.entries(spec).filter(([k]) => k !== "memoryMb"))
                                : spec,
                        ]),
                    );
                }
                return [name, kept];
            }),
    );
}

/** Compares stack `a` with stack `b` (e.g. staging with prod). */
export function compareStacks(a: RecordedStack, aCfg: StackConfig, b: RecordedStack, bCfg: StackConfig): ParityReport {
    const aPairs = [...idValues(a), ...stackValues(a.stack, aCfg)].sort((x, y) => y[0].length - x[0].length);
    const bPairs = [...idValues(b), ...stackValues(b.stack, bCfg)].sort((x, y) => y[0].length - x[0].length);
    const aMap = new Map(a.resources.map((r) => [logicalKey(r, a.stack), r]));
    const bMap = new Map(b.resources.map((r) => [logicalKey(r, b.stack), r]));
    const report: ParityReport = {
        a: a.stack,
        b: b.stack,
        onlyIn: [],
        diffs: [],
        causes: parityCauses(a.stack, aCfg, b.stack, bCfg),
        unexpected: 0,
    };

    for (const [side, mine, other] of [
        [a.stack, aMap, bMap],
        [b.stack, bMap, aMap],
    ] as const) {
        for (const [key, r] of mine) {
            if (other.has(key)) continue;
            const knob = countKnob(r);
            report.onlyIn.push({ stack: side, resource: key, knob, expected: !!knob });
        }
    }
    // References to resources a count knob adds (prod's web-3) may lengthen a list (alert
    // entities, project members); such a list differs by that knob and nothing else.
    const counted = new Map(report.onlyIn.filter((o) => o.knob).map((o) => [`<id:${o.resource}>`, o.knob!]));
    for (const [key, ra] of aMap) {
        const rb = bMap.get(key);
        if (!rb) continue;
        const props = new Set([...Object.keys(ra.inputs), ...Object.keys(rb.inputs)]);
        for (const p of [...props].sort()) {
            // Secret values are never compared or printed; that they are secret in both is checked below.
            const secretA = ra.secretInputs.includes(p);
            const secretB = rb.secretInputs.includes(p);
            const va = secretA ? "[secret]" : normalize(ra.inputs[p], aPairs, a.stack);
            const vb = secretB ? "[secret]" : normalize(rb.inputs[p], bPairs, b.stack);
            if (JSON.stringify(va) === JSON.stringify(vb)) continue;
            // The two DNS records are told apart by role: their names are different knobs.
            const mapped =
                ra.type === TYPES.dns && p === "name" && key.endsWith("-api")
                    ? "apiHost"
                    : PROPERTY_KNOBS[ra.type]?.[p];
            const knob = mapped
                ? knobOf(mapped)
                : STACK_DERIVED[ra.type]?.includes(p)
                  ? { key: "stack", kind: "name" as Knob }
                  : countedList(va, vb, counted);
            report.diffs.push({ resource: key, property: p, a: va, b: vb, knob, expected: !!knob });
        }
    }
    const shapes = [serviceShape(aCfg), serviceShape(bCfg)];
    if (JSON.stringify(shapes[0]) !== JSON.stringify(shapes[1])) {
        report.diffs.push({ resource: "stack", property: "services", a: shapes[0], b: shapes[1], expected: false });
    }
    if (a.outputs.edgeKind !== b.outputs.edgeKind) {
        report.diffs.push({
            resource: "stack",
            property: "edgeKind",
            a: a.outputs.edgeKind,
            b: b.outputs.edgeKind,
            expected: false,
        });
    }
    report.unexpected =
        report.onlyIn.filter((o) => !o.expected).length +
        report.diffs.filter((d) => !d.expected).length +
        report.causes.filter((c) => c.blocking).length;
    return report;
}

/**
 * Differences whose cause is one key, said in one line each. A stack with one server gets a
 * reserved IP and Caddy's own TLS, one with more a load balancer (infra/edge): a count that
 * crosses one changes the topology, which no knob allows, and the resource-by-resource
 * report alone does not name serverCount. VPC ranges of two stacks must not overlap
 * (vpcIpRange): a mirror that reuses prod's range would collide with it.
 */
export function parityCauses(a: string, aCfg: StackConfig, b: string, bCfg: StackConfig): ParityReport["causes"] {
    const get = (cfg: StackConfig, k: Key) => cfg.values[`${PROJECT}:${k}`];
    const causes: ParityReport["causes"] = [];
    const count = (cfg: StackConfig) => Number(get(cfg, "serverCount") ?? (KEYS.serverCount as KeyDef).default);
    const [ca, cb] = [count(aCfg), count(bCfg)];
    if ((ca === 1) !== (cb === 1)) {
        causes.push({
            key: "serverCount",
            blocking: false,
            message: `serverCount is ${ca} in ${a} and ${cb} in ${b}: one server gets a reserved IP with Caddy's own TLS, two or more a load balancer, so ${a} cannot mirror ${b}'s edge; give both 2 or more servers (or both 1)`,
        });
    }
    const [va, vb] = [get(aCfg, "vpcIpRange"), get(bCfg, "vpcIpRange")];
    if (va && vb && cidrsOverlap(va, vb)) {
        causes.push({
            key: "vpcIpRange",
            blocking: true,
            message: `vpcIpRange ${va} in ${a} overlaps ${vb} in ${b}: each stack's VPC needs its own range; pick another for ${a}, e.g. ${suggestRange(vb)}`,
        });
    }
    return causes;
}

/** A /20 next to `range` that does not overlap it, for the fix. */
function suggestRange(range: string): string {
    const m = /^10\.(\d+)\./.exec(range);
    const second = m ? (Number(m[1]) + 10) % 256 : 40;
    return `10.${second}.0.0/20`;
}
