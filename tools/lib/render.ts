/** Text renderings of a recorded stack: tree, table and Mermaid diagram. */
import { RecordedResource, RecordedStack } from "./mockrun";
import { TYPES } from "../../infra/lifecycle/types";

/** The properties worth showing per type; everything else stays in --json. */
const KEY_PROPS: Record<string, string[]> = {
    [TYPES.vpc]: ["name", "region", "ipRange"],
    [TYPES.droplet]: ["name", "size", "region", "image", "backups", "monitoring", "ipv6", "tags"],
    [TYPES.firewall]: ["name", "tags", "inboundRules", "outboundRules"],
    [TYPES.lb]: ["name", "region", "sizeUnit", "forwardingRules", "healthcheck"],
    [TYPES.cert]: ["type", "domains"],
    [TYPES.reservedIp]: ["region"],
    [TYPES.cluster]: ["name", "engine", "version", "size", "nodeCount", "maintenanceWindows"],
    [TYPES.db]: ["name"],
    [TYPES.dbUser]: ["name"],
    [TYPES.pool]: ["name", "mode", "size"],
    [TYPES.dbFirewall]: ["rules"],
    [TYPES.dns]: ["type", "name", "domain", "ttl", "value"],
    [TYPES.alert]: ["type", "compare", "value", "window", "alerts"],
    [TYPES.uptime]: ["target", "regions"],
    [TYPES.uptimeAlert]: ["type", "period", "threshold"],
    [TYPES.project]: ["name", "environment"],
    [TYPES.tailnetKey]: ["tags", "reusable", "preauthorized", "expiry"],
    [TYPES.container]: ["image", "command", "ports", "memory", "healthcheck", "wait", "waitTimeout", "envs"],
    [TYPES.remoteImage]: ["name"],
    [TYPES.dockerNetwork]: ["name"],
    [TYPES.command]: ["triggers"],
    [TYPES.environment]: [
        "environment",
        "reviewers",
        "preventSelfReview",
        "canAdminsBypass",
        "waitTimer",
        "deploymentBranchPolicy",
    ],
    [TYPES.envPolicy]: ["branchPattern", "tagPattern"],
    [TYPES.envSecret]: ["secretName", "value"],
    [TYPES.envVariable]: ["variableName", "value"],
    "pulumi:providers:docker": ["host"],
};

export const shortType = (t: string) =>
    t.startsWith("pulumi:providers:") ? `provider:${t.slice(17)}` : (t.split(":").pop() ?? t);

/** A property's display value: secrets as [secret], long values shortened. */
export function showValue(r: RecordedResource, prop: string, width = 90): string {
    if (r.secretInputs.includes(prop)) return "[secret]";
    const v = r.inputs[prop];
    let s = typeof v === "string" ? v : JSON.stringify(v);
    if (s === undefined) return "";
    s = s.replace(/\s+/g, " ");
    return s.length > width ? `${s.slice(0, width - 3)}...` : s;
}

/** The props to show for a resource, as `k=v` strings; secret inputs always appear, masked. */
export function keyProps(r: RecordedResource): string[] {
    const props = KEY_PROPS[r.type] ?? [];
    const shown = props.filter((p) => r.inputs[p] !== undefined || r.secretInputs.includes(p));
    for (const p of r.secretInputs) if (!shown.includes(p)) shown.push(p);
    const flags = [
        r.opts.protect && "protect",
        r.opts.retainOnDelete && "retainOnDelete",
        r.opts.deleteBeforeReplace === true && "deleteBeforeReplace",
        r.opts.ignoreChanges.length > 0 && `ignoreChanges=${r.opts.ignoreChanges.join(",")}`,
    ].filter(Boolean) as string[];
    return [...shown.map((p) => `${p}=${showValue(r, p)}`), ...flags.map((f) => `[${f}]`)];
}

export function renderTree(rec: RecordedStack): string {
    const children = new Map<string | undefined, RecordedResource[]>();
    for (const r of rec.resources) {
        const list = children.get(r.opts.parent) ?? [];
        list.push(r);
        children.set(r.opts.parent, list);
    }
    const lines = [`Stack ${rec.stack}`];
    const walk = (parent: string | undefined, prefix: string, parentType?: string) => {
        // Components of a stack share the stack's name, so children are matched to their
        // component by name and then by the component type registered just before them.
        const kids = (children.get(parent) ?? []).filter((k) => parent === undefined || k.type !== parentType);
        kids.forEach((k, i) => {
            const last = i === kids.length - 1;
            const isComponent = !k.custom && !k.type.startsWith("pulumi:providers:");
            lines.push(
                `${prefix}${last ? "└─ " : "├─ "}${shortType(k.type)} ${k.name}${isComponent ? ` (${k.type.split(":")[1]})` : ""}`,
            );
            const inner = `${prefix}${last ? "   " : "│  "}`;
            if (isComponent) {
                const own = rec.resources.filter((c) => c.opts.parent === k.name && ownerOf(rec, c) === k);
                own.forEach((c, j) => {
                    const lastC = j === own.length - 1;
                    lines.push(`${inner}${lastC ? "└─ " : "├─ "}${shortType(c.type)} ${c.name}`);
                    for (const p of keyProps(c)) lines.push(`${inner}${lastC ? "   " : "│  "}   ${p}`);
                });
            } else {
                for (const p of keyProps(k)) lines.push(`${inner}   ${p}`);
            }
        });
    };
    walk(undefined, "");
    return lines.join("\n");
}

/** The component a resource belongs to: the last component of its parent's name registered before it. */
function ownerOf(rec: RecordedStack, r: RecordedResource): RecordedResource | undefined {
    const idx = rec.resources.indexOf(r);
    for (let i = idx - 1; i >= 0; i--) {
        const c = rec.resources[i];
        if (!c.custom && c.name === r.opts.parent && !c.type.startsWith("pulumi:")) return c;
    }
    return undefined;
}

export function renderTable(rec: RecordedStack): string {
    const rows = rec.resources.filter((r) => r.custom).map((r) => [shortType(r.type), r.name, keyProps(r).join("  ")]);
    const w0 = Math.max(...rows.map((r) => r[0].length), 4);
    const w1 = Math.max(...rows.map((r) => r[1].length), 4);
    return [
        `${"TYPE".padEnd(w0)}  ${"NAME".padEnd(w1)}  PROPERTIES`,
        ...rows.map((r) => `${r[0].padEnd(w0)}  ${r[1].padEnd(w1)}  ${r[2]}`),
    ].join("\n");
}

/** Components, and how traffic and data flow between them. */
export function renderMermaid(rec: RecordedStack): string {
    const count = (t: string) => rec.resources.filter((r) => r.type === t).length;
    const servers = rec.resources.filter((r) => r.type === TYPES.droplet);
    const lb = count(TYPES.lb) > 0;
    const workers = [
        ...new Set(
            rec.resources
                .filter((r) => r.type === TYPES.container)
                .map(
                    (r) =>
                        (r.inputs.labels as { label: string; value: string }[] | undefined)?.find(
                            (l) => l.label === "platform.role",
                        )?.value,
                )
                .filter((v): v is string => !!v && v !== "app" && v !== "proxy"),
        ),
    ];
    const cluster = rec.resources.find((r) => r.type === TYPES.cluster);
    const out = [
        "flowchart LR",
        "  users([Users]) -->|HTTPS| dns[DNS records]",
        lb ? "  dns --> edge[Load balancer<br/>TLS, health checks]" : "  dns --> edge[Reserved IP]",
        `  subgraph vpc [VPC ${rec.stack}]`,
    ];
    for (const s of servers) {
        const id = s.name.replace(/[^A-Za-z0-9]/g, "_");
        out.push(`    subgraph ${id} [${s.name} ${String(s.inputs.size)}]`);
        out.push(`      ${id}_proxy[Caddy] --> ${id}_app[app]`);
        for (const w of workers) out.push(`      ${id}_${w.replace(/-/g, "_")}[${w}]`);
        out.push("    end");
        out.push(`    edge -->|${lb ? "HTTP :80" : "HTTPS :443"}| ${id}_proxy`);
        out.push(`    ${id}_app --> pool`);
        for (const w of workers) out.push(`    ${id}_${w.replace(/-/g, "_")} --> pool`);
    }
    out.push(
        `    pool[PgBouncer pool] --> pg[(Postgres ${String(cluster?.inputs.version ?? "")} x${String(cluster?.inputs.nodeCount ?? "")})]`,
    );
    out.push("  end");
    out.push("  ci[GitHub Actions<br/>environment " + rec.stack + "] -.->|tailnet SSH| vpc");
    out.push("  ghcr[(GHCR)] -.->|pull by digest| vpc");
    out.push("  monitor[DO monitoring + uptime] -.-> edge");
    return out.join("\n");
}
