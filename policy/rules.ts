/**
 * The platform's guardrails as pure functions over plain resource descriptions. The
 * CrossGuard pack (policy/index.ts) and the offline plan (tools/plan.ts) both run these;
 * neither adds logic of its own. Nothing here starts a policy server, so tests call the
 * rules directly.
 */
import { PG_VERSIONS } from "../infra/config/catalog";
import { DEPLOY_BRANCH, tierOf } from "../infra/config/schema";
import { credentialsIn, isSecretName } from "../infra/config/secrets";
import { TYPES } from "../infra/lifecycle/types";

export type Severity = "low" | "medium" | "high" | "critical";
export type Enforcement = "advisory" | "mandatory";

/** A resource as the rules see it. */
export interface Subject {
    type: string;
    name: string;
    /** The stack the resource belongs to (from its URN in the pack). */
    stack: string;
    props: Record<string, unknown>;
    protect: boolean;
    /** The provider id, when known (mock runs, existing resources). */
    id?: string;
    /** Names or URNs of the resources a property depends on, by property. */
    propertyDependencies?: Record<string, string[]>;
    /** Properties known to be secret (the offline plan knows; the pack cannot tell). */
    secretProps?: string[];
}

export interface Violation {
    resource?: string;
    message: string;
}

interface RuleBase {
    /** `<vendor>-<service>-<resource>-<verb>-<noun>`. */
    name: string;
    description: string;
    severity: Severity;
    enforcementLevel: Enforcement;
}

export interface ResourceRule extends RuleBase {
    kind: "resource";
    resourceTypes: string[];
    validate(s: Subject): string[];
}

export interface StackRule extends RuleBase {
    kind: "stack";
    validateStack(subjects: Subject[], stack: string): Violation[];
}

export type Rule = ResourceRule | StackRule;

export { TYPES };

/** The root resource's type: in a stack rule its props are the stack's outputs. */
export const STACK_TYPE = "pulumi:pulumi:Stack";
/** Stack outputs that carry a credential (infra/index.ts exports each as a secret). */
export const STACK_SECRET_OUTPUTS = ["databaseUrl"];

const PUBLIC = ["0.0.0.0/0", "::/0"];
/** Stacks whose data and servers count as production-grade. */

type FwRule = { protocol?: string; portRange?: string; sourceAddresses?: string[] };
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);

/** Whether a DigitalOcean port range ("22", "20-30", "all", "1-65535", empty) covers a port. */
export function coversPort(range: string | undefined, port: number): boolean {
    if (range === undefined || range === "" || range === "all" || range === "0") return true;
    const [lo, hi] = range.split("-").map(Number);
    return port >= lo && port <= (hi ?? lo);
}

/** Long-lived credentials by their well-known shapes (infra/config/secrets.ts). Tailscale auth keys are one-time, so allowed. */
export function findSecrets(text: string): string[] {
    return credentialsIn(text, true);
}

function labels(s: Subject): Record<string, string> {
    return Object.fromEntries(list<{ label: string; value: string }>(s.props.labels).map((l) => [l.label, l.value]));
}

const resource = (types: string[], r: Omit<ResourceRule, "kind" | "resourceTypes">): ResourceRule => ({
    kind: "resource",
    resourceTypes: types,
    ...r,
});

export const RULES: Rule[] = [
    // --- cloud firewall
    resource([TYPES.firewall], {
        name: "digitalocean-firewall-disallow-public-ingress",
        description: "Inbound rules may admit the whole internet (0.0.0.0/0, ::/0) only on TCP 80 and 443.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validate: (s) =>
            list<FwRule>(s.props.inboundRules)
                .filter((r) => list<string>(r.sourceAddresses).some((a) => PUBLIC.includes(a)))
                .filter((r) => !(r.protocol === "tcp" && (r.portRange === "80" || r.portRange === "443")))
                .map(
                    (r) =>
                        `inbound ${r.protocol ?? "?"} ${r.portRange ?? "all"} is open to the internet; only TCP 80/443 may be`,
                ),
    }),
    resource([TYPES.firewall], {
        name: "digitalocean-firewall-disallow-public-ssh",
        description: "Port 22 is never reachable from the internet; operators and CI use the tailnet.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validate: (s) =>
            list<FwRule>(s.props.inboundRules)
                .filter((r) => r.protocol !== "udp" && r.protocol !== "icmp" && coversPort(r.portRange, 22))
                .filter((r) => list<string>(r.sourceAddresses).some((a) => PUBLIC.includes(a)))
                .map((r) => `inbound ${r.protocol ?? "tcp"} ${r.portRange ?? "all"} opens SSH (22) to the internet`),
    }),

    // --- droplets
    resource([TYPES.droplet], {
        name: "digitalocean-droplet-require-vpc",
        description: "Droplets are placed in the stack's VPC.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) => (s.props.vpcUuid ? [] : ["droplet has no vpcUuid: it would land in the region's default VPC"]),
    }),
    resource([TYPES.droplet], {
        name: "digitalocean-droplet-require-monitoring",
        description: "Droplets run the metrics agent, or CPU, memory and disk alerts never fire.",
        severity: "medium",
        enforcementLevel: "mandatory",
        validate: (s) => (s.props.monitoring === true ? [] : ["monitoring is off: droplet alerts cannot fire"]),
    }),
    resource([TYPES.droplet], {
        name: "digitalocean-droplet-require-ssh-keys",
        description: "Droplets get SSH keys, so DigitalOcean never emails a root password.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) =>
            list(s.props.sshKeys).length > 0 ? [] : ["no sshKeys: DigitalOcean would set and email a root password"],
    }),
    resource([TYPES.droplet], {
        name: "digitalocean-droplet-require-backups",
        description: "Droplets in staging and prod keep backups.",
        severity: "medium",
        enforcementLevel: "mandatory",
        validate: (s) =>
            !!tierOf(s.stack)?.backups && s.props.backups !== true ? [`backups are off in ${s.stack}`] : [],
    }),
    resource([TYPES.droplet], {
        name: "digitalocean-droplet-disallow-secrets-in-userdata",
        description:
            "User data holds no long-lived credential (it is readable from the metadata service); one-time Tailscale auth keys are allowed.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validate: (s) => findSecrets(String(s.props.userData ?? "")).map((w) => `user data contains ${w}`),
    }),

    // --- managed Postgres
    resource([TYPES.cluster], {
        name: "digitalocean-database-require-supported-version",
        description: `Postgres clusters run a version DigitalOcean still offers (${PG_VERSIONS.join(", ")}).`,
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) =>
            s.props.engine === "pg" && !PG_VERSIONS.includes(String(s.props.version))
                ? [
                      `Postgres ${String(s.props.version)} is past DigitalOcean's end of availability (supported: ${PG_VERSIONS.join(", ")})`,
                  ]
                : [],
    }),
    resource([TYPES.cluster], {
        name: "digitalocean-database-require-vpc",
        description: "Database clusters are attached to the stack's VPC (privateNetworkUuid).",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) =>
            s.props.privateNetworkUuid ? [] : ["no privateNetworkUuid: the cluster is not in the stack's VPC"],
    }),
    resource([TYPES.cluster], {
        name: "digitalocean-database-require-standby-in-prod",
        description: "Prod's cluster has a standby node (nodeCount >= 2).",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) =>
            !!tierOf(s.stack)?.standby && Number(s.props.nodeCount) < 2
                ? [`nodeCount is ${String(s.props.nodeCount)} in ${s.stack}; needs a standby (>= 2)`]
                : [],
    }),
    resource([TYPES.cluster, TYPES.db], {
        name: "digitalocean-database-require-protection-in-prod",
        description: "Prod's database cluster and databases are protected against deletion and replacement.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validate: (s) =>
            !!tierOf(s.stack)?.protectedData && !s.protect ? [`${s.name} is not protected in ${s.stack}`] : [],
    }),
    resource([TYPES.dbFirewall], {
        name: "digitalocean-database-disallow-open-firewall",
        description: "Database firewalls never admit an open IP range.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validate: (s) =>
            list<{ type: string; value: string }>(s.props.rules)
                .filter((r) => r.type === "ip_addr" && (PUBLIC.includes(r.value) || /\/0$/.test(r.value)))
                .map((r) => `database firewall admits ${r.value}`),
    }),
    {
        kind: "stack",
        name: "digitalocean-database-require-firewall",
        description: "Every database cluster has a database firewall with at least one rule.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validateStack: (subjects) => {
            const firewalls = subjects.filter((s) => s.type === TYPES.dbFirewall && list(s.props.rules).length > 0);
            return subjects
                .filter((s) => s.type === TYPES.cluster)
                .filter(
                    (c) =>
                        !firewalls.some(
                            (f) =>
                                (c.id && f.props.clusterId === c.id) ||
                                (f.propertyDependencies?.clusterId ?? []).includes(c.name),
                        ),
                )
                .map((c) => ({
                    resource: c.name,
                    message: `cluster ${c.name} has no database firewall: anything in the VPC could connect`,
                }));
        },
    },

    // --- tailnet keys
    resource([TYPES.tailnetKey], {
        name: "tailscale-tailnetkey-require-tags",
        description: "Auth keys carry ACL tags, so devices are owned by tags, not by the person who made the key.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) => (list(s.props.tags).length > 0 ? [] : ["auth key has no tags"]),
    }),
    resource([TYPES.tailnetKey], {
        name: "tailscale-tailnetkey-require-preauthorized",
        description: "Auth keys are preauthorized, so an unattended first boot joins without a human.",
        severity: "low",
        enforcementLevel: "mandatory",
        validate: (s) =>
            s.props.preauthorized === true ? [] : ["auth key is not preauthorized: first boot would wait for approval"],
    }),
    resource([TYPES.tailnetKey], {
        name: "tailscale-tailnetkey-disallow-reusable",
        description: "Auth keys are single-use: a leaked key cannot add more devices.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) => (s.props.reusable === true ? ["auth key is reusable"] : []),
    }),
    resource([TYPES.tailnetKey], {
        name: "tailscale-tailnetkey-limit-expiry",
        description: "Auth keys expire within 90 days.",
        severity: "medium",
        enforcementLevel: "mandatory",
        validate: (s) => {
            const e = Number(s.props.expiry ?? 90 * 86400);
            return e > 90 * 86400 ? [`auth key lives ${Math.round(e / 86400)} days; at most 90`] : [];
        },
    }),

    // --- GitHub environments
    resource([TYPES.environment], {
        name: "github-environment-require-reviewers-in-prod",
        description: "Prod's environment needs an approval from a required reviewer.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validate: (s) => {
            if (!tierOf(String(s.props.environment))?.approvals) return [];
            const r = list<{ users?: unknown[]; teams?: unknown[] }>(s.props.reviewers);
            return r.some((x) => list(x.users).length + list(x.teams).length > 0)
                ? []
                : ["prod environment has no required reviewers"];
        },
    }),
    resource([TYPES.environment], {
        name: "github-environment-require-prevent-self-review-in-prod",
        description: "In prod, whoever triggers a deployment cannot approve it.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) =>
            !!tierOf(String(s.props.environment))?.approvals && s.props.preventSelfReview !== true
                ? ["prod environment allows self-review"]
                : [],
    }),
    resource([TYPES.environment], {
        name: "github-environment-disallow-admin-bypass-in-prod",
        description: "In prod, repository admins cannot skip the approval.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) =>
            !!tierOf(String(s.props.environment))?.approvals && s.props.canAdminsBypass !== false
                ? ["prod environment lets admins bypass the rules"]
                : [],
    }),
    {
        kind: "stack",
        name: "github-environment-require-deploy-branch-only",
        description: `Each stack's environment admits only the ${DEPLOY_BRANCH} branch, the one its workflows deploy from: no tag and no other branch can reach the stack's secrets, whatever workflow it carries.`,
        severity: "critical",
        enforcementLevel: "mandatory",
        validateStack: (subjects) =>
            subjects
                .filter((s) => s.type === TYPES.environment)
                .flatMap((env) => {
                    const policy = env.props.deploymentBranchPolicy as
                        { customBranchPolicies?: boolean; protectedBranches?: boolean } | undefined;
                    if (policy?.customBranchPolicies !== true || policy.protectedBranches === true) {
                        return [
                            {
                                resource: env.name,
                                message: `environment ${String(env.props.environment)} has no custom deployment branch policy: more than ${DEPLOY_BRANCH} may deploy`,
                            },
                        ];
                    }
                    // Matched by the environment's name, or (in a preview, where that name is not known
                    // yet) by the policy's dependency on the environment resource.
                    const patterns = subjects.filter(
                        (p) =>
                            p.type === TYPES.envPolicy &&
                            (p.props.environment === env.props.environment ||
                                (p.propertyDependencies?.environment ?? []).includes(env.name)),
                    );
                    const admitted = patterns.map((p) =>
                        p.props.tagPattern
                            ? `tag ${String(p.props.tagPattern)}`
                            : `branch ${String(p.props.branchPattern)}`,
                    );
                    return admitted.length === 1 && admitted[0] === `branch ${DEPLOY_BRANCH}`
                        ? []
                        : [
                              {
                                  resource: env.name,
                                  message: `environment ${String(env.props.environment)} admits ${admitted.join(", ") || "no ref"}; expected only branch ${DEPLOY_BRANCH}`,
                              },
                          ];
                }),
    },
    {
        kind: "stack",
        name: "github-variable-disallow-secret-values",
        description:
            "Environment variables never carry a secret: not a name the environment keeps as a secret, nor a credential-shaped value.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validateStack: (subjects) => {
            const secretNames = new Set(
                subjects
                    .filter((s) => s.type === TYPES.envSecret)
                    .map((s) => `${String(s.props.environment)}/${String(s.props.secretName)}`),
            );
            return subjects
                .filter((s) => s.type === TYPES.envVariable)
                .flatMap((v) => {
                    const out: Violation[] = [];
                    const name = String(v.props.variableName);
                    if (secretNames.has(`${String(v.props.environment)}/${name}`))
                        out.push({
                            resource: v.name,
                            message: `${name} is an environment secret and must not also be a variable`,
                        });
                    if (isSecretName(name))
                        out.push({
                            resource: v.name,
                            message: `${name} looks like a secret; make it an environment secret`,
                        });
                    for (const w of findSecrets(String(v.props.value ?? "")))
                        out.push({ resource: v.name, message: `${name}'s value is ${w}` });
                    if (v.secretProps?.includes("value"))
                        out.push({ resource: v.name, message: `${name} is set from a secret value` });
                    return out;
                });
        },
    },
    {
        kind: "stack",
        name: "platform-resource-disallow-secret-literals",
        description: "No credential appears in plain text in any resource input outside a field meant for secrets.",
        severity: "critical",
        enforcementLevel: "mandatory",
        validateStack: (subjects) =>
            subjects.flatMap((s) =>
                Object.entries(s.props)
                    .filter(([k]) => !(s.secretProps ?? []).includes(k) && !SECRET_FIELDS[s.type]?.includes(k))
                    .flatMap(([k, v]) =>
                        findSecrets(JSON.stringify(v) ?? "").map((w) => ({
                            resource: s.name,
                            message: `${k} holds ${w} in plain text`,
                        })),
                    ),
            ),
    },

    // --- containers
    resource([TYPES.container], {
        name: "docker-container-require-digest-pinned-image",
        description: "Containers run images pinned by sha256 digest, so a moved tag never changes what runs.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) =>
            /@sha256:[a-f0-9]{64}$/.test(String(s.props.image ?? ""))
                ? []
                : [`image ${String(s.props.image)} is not pinned by digest`],
    }),
    {
        // A stack rule: the gate is a cut-over command that probes the container from the
        // proxy's network (works for any image), or a Docker healthcheck with a health wait.
        kind: "stack",
        name: "docker-container-require-healthcheck",
        description:
            "App containers are gated before they take traffic: a cut-over command triggered by the container (it checks the service's health from the proxy's network: its health path, Docker's healthcheck, or for a static site any answer below 500), or a healthcheck with a health wait.",
        severity: "high",
        enforcementLevel: "mandatory",
        validateStack: (subjects) => {
            const gates = ["http", "docker", "none"];
            const cutovers = subjects.filter(
                (c) =>
                    c.type === "command:local:Command" &&
                    gates.includes(String((c.props.environment as Record<string, unknown> | undefined)?.HEALTH)),
            );
            return subjects
                .filter((s) => s.type === TYPES.container && labels(s)["platform.role"] === "app")
                .flatMap((s) => {
                    const hc = s.props.healthcheck as { tests?: unknown[] } | undefined;
                    if (hc && list(hc.tests).length > 0 && s.props.wait === true) return [];
                    if (
                        cutovers.some(
                            (c) =>
                                (s.id && list(c.props.triggers).includes(s.id)) ||
                                (c.propertyDependencies?.triggers ?? []).includes(s.name),
                        )
                    )
                        return [];
                    return [
                        {
                            resource: s.name,
                            message:
                                "app container is neither probed by a cut-over command it triggers nor health-checked and waited for (wait: true)",
                        },
                    ];
                });
        },
    },
    resource([TYPES.container], {
        name: "docker-container-disallow-host-ports",
        description: "Only the edge proxy publishes host ports, and only 80 and 443.",
        severity: "high",
        enforcementLevel: "mandatory",
        validate: (s) => {
            const ports = list<{ external?: number; internal: number }>(s.props.ports);
            const proxy = labels(s)["platform.role"] === "proxy";
            return ports
                .filter((p) => !proxy || ![80, 443].includes(Number(p.external ?? p.internal)))
                .map(
                    (p) =>
                        `publishes host port ${String(p.external ?? p.internal)}${proxy ? "" : " (only the edge proxy may)"}`,
                );
        },
    }),
    resource([TYPES.container], {
        name: "docker-container-require-log-rotation",
        description: "Containers rotate their logs (json-file with max-size and max-file).",
        severity: "medium",
        enforcementLevel: "mandatory",
        validate: (s) => {
            const o = (s.props.logOpts ?? {}) as Record<string, string>;
            return s.props.logDriver === "json-file" && o["max-size"] && o["max-file"]
                ? []
                : ["logs are not rotated: set logDriver json-file with max-size and max-file"];
        },
    }),

    // --- billing
    resource([TYPES.droplet, TYPES.cluster], {
        name: "digitalocean-resource-require-stack-tag",
        description: "Every billable, taggable resource carries its stack's tag, so the bill splits by stack.",
        severity: "low",
        enforcementLevel: "mandatory",
        validate: (s) =>
            list<string>(s.props.tags).includes(`platform-${s.stack}`) ? [] : [`missing tag platform-${s.stack}`],
    }),
];

/**
 * Fields that legitimately carry secrets. The pack cannot see secretness: @pulumi/policy 1.21
 * deserializes a resource's properties for validation with secrets unwrapped
 * (node_modules/@pulumi/policy/server.js:255 and :351, `deserializeProperties(..., false)`),
 * so a field the provider itself stores as a secret must be named here or every `up` after the
 * first fails on the values it read back. The offline plan does see secretness (`secretProps`).
 */
export const SECRET_FIELDS: Record<string, string[]> = {
    // @pulumi/github 6.15.0 actionsEnvironmentSecret.js:180.
    [TYPES.envSecret]: ["encryptedValue", "plaintextValue", "value", "valueEncrypted"],
    [TYPES.droplet]: ["userData"],
    [TYPES.container]: ["envs"],
    "command:local:Command": ["environment"],
    "pulumi:providers:tailscale": ["apiKey"],
    "pulumi:providers:docker": ["registryAuth"],
    "pulumi:providers:github": ["token"],
    "digitalocean:index/monitorAlert:MonitorAlert": ["alerts"],
    "digitalocean:index/uptimeAlert:UptimeAlert": ["notifications"],
    // Outputs each provider marks secret (its SDK's `additionalSecretOutputs`), read back into
    // state after the first `up`: @pulumi/digitalocean 4.80.1 databaseCluster.js:274,
    // databaseConnectionPool.js:139, databaseUser.js:186, certificate.js:168; @pulumi/tailscale
    // 0.29.1 tailnetKey.js:119. test/policy.test.ts checks this list against the installed SDKs.
    [TYPES.cluster]: ["password", "privateUri", "uiPassword", "uiUri", "uri"],
    [TYPES.pool]: ["password", "privateUri", "uri"],
    [TYPES.dbUser]: ["accessCert", "accessKey", "password"],
    [TYPES.cert]: ["privateKey"],
    [TYPES.tailnetKey]: ["key"],
    // The stack's own outputs (infra/index.ts) that hold a credential; each is exported as a
    // secret, which test/policy.test.ts checks against a run of the program.
    [STACK_TYPE]: STACK_SECRET_OUTPUTS,
};

export interface RuleResult {
    rule: string;
    severity: Severity;
    enforcementLevel: Enforcement;
    violations: Violation[];
}

/** Runs every rule over a stack's resources: what the plan prints and the suite asserts. */
export function evaluate(subjects: Subject[], stack: string): RuleResult[] {
    return RULES.map((rule) => {
        const violations: Violation[] =
            rule.kind === "resource"
                ? subjects
                      .filter((s) => rule.resourceTypes.includes(s.type))
                      .flatMap((s) => rule.validate(s).map((message) => ({ resource: s.name, message })))
                : rule.validateStack(subjects, stack);
        return { rule: rule.name, severity: rule.severity, enforcementLevel: rule.enforcementLevel, violations };
    });
}

/** The stack a URN belongs to: `urn:pulumi:<stack>::<project>::...`. */
export function stackOfUrn(urn: string): string {
    return /^urn:pulumi:([^:]+)::/.exec(urn)?.[1] ?? "";
}
