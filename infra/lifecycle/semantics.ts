/**
 * What the real providers do when an input changes, for every resource type this program
 * registers. Mocks know none of this, so the replacement guard, the offline plan's
 * "what would this change do" report and the lifecycle tests read it from here.
 *
 * Every fact names the provider source it was read in (upstream Terraform providers for
 * the bridged ones: a `ForceNew: true` or `RequiresReplace()` in the schema means the
 * engine plans a replacement; an `Update` function that powers a server off means a
 * restart). The versions read: terraform-provider-digitalocean v2.99.1,
 * kreuzwerker/terraform-provider-docker v4.5.0, integrations/terraform-provider-github
 * v6.13.0, tailscale/terraform-provider-tailscale v0.29.2, pulumi-command v1.2.1.
 * The real-engine tier (`npm run test:engine`) checks the plan against the providers.
 */

import { TYPES } from "./types";

export interface TypeSemantics {
    /** What a person calls it in a finding. */
    what: string;
    /** Provider source file the facts below were read in. */
    source: string;
    /** Inputs (Pulumi names) whose change makes the provider plan a replacement. */
    replaceOn: readonly string[];
    /** When set, every input except these forces a replacement (docker containers). */
    replaceOnAllExcept?: readonly string[];
    /**
     * The input whose value must be unique (per account, cluster or host): replacing the
     * resource create-before-delete with this value unchanged makes the API refuse the
     * create ("already exists").
     */
    uniqueName?: string;
    /** The input that scopes the unique name (a database's cluster): a new scope, no clash. */
    uniqueWithin?: string;
    /** Inputs updated in place but with a restart of the resource (downtime on that resource). */
    restartOn?: readonly string[];
    /** Deleting or replacing it loses data. */
    holdsData?: boolean;
    /** Losing it (delete, replace) is worth stopping a routine deploy for. */
    guarded?: boolean;
    /**
     * Which end a replacement starts from when the program sets no `deleteBeforeReplace`:
     * `always`, the Pulumi provider declares DeleteBeforeReplace for the type; `whenNamed`,
     * the Terraform bridge auto-names the type's `name` input, and a name the program sets
     * itself makes every replacement delete first (pulumi-terraform-bridge v3.135.0
     * pkg/tfbridge/provider.go:1275-1276 and schema.go:240, nameRequiresDeleteBeforeReplace;
     * pulumi-digitalocean provider/resources.go:700 SetAutonaming(255, "-") names every
     * resource's string `name` input that has no Fields entry). Absent: create first.
     */
    deleteFirst?: "always" | "whenNamed";
    /**
     * Inputs the provider's diff plans as an in-place update that its Update never applies:
     * state then records a value the real resource does not have.
     */
    noopOn?: readonly string[];
    /** Inputs that force a replacement only for some changes: (old, new) says which. */
    replaceWhen?: Readonly<Record<string, (before: unknown, after: unknown) => boolean>>;
}

const DO = "terraform-provider-digitalocean v2.99.1";
const CONTAINER_NOOP = ["healthcheck", "tmpfs", "init", "cpuPeriod", "cpuQuota"];
const DOCKER = "kreuzwerker/terraform-provider-docker v4.5.0";
const GH = "integrations/terraform-provider-github v6.13.0";

/** Keyed by Pulumi type token. */
export const PROVIDER_SEMANTICS: Readonly<Record<string, TypeSemantics>> = {
    [TYPES.droplet]: {
        what: "server",
        source: `${DO} digitalocean/droplet/resource_droplet.go`,
        replaceOn: [
            "image",
            "region",
            "sshKeys",
            "userData",
            "vpcUuid",
            "monitoring",
            "dropletAgent",
            "publicNetworking",
            "gpuPartitionMode",
        ],
        // resource_droplet.go:312-318 CustomizeDiff ForceNewIfChange("ipv6", old && !new):
        // turning IPv6 off replaces the droplet; turning it on is an update (:767-786).
        replaceWhen: { ipv6: (before, after) => before === true && after !== true },
        // resourceDigitalOceanDropletUpdate (:600-641): HasChange("size") -> PowerOff, Resize, PowerOn.
        restartOn: ["size"],
        holdsData: true,
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.vpc]: {
        what: "VPC",
        source: `${DO} digitalocean/vpc/resource_vpc.go`,
        replaceOn: ["ipRange", "region"],
        uniqueName: "name",
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.cert]: {
        what: "TLS certificate",
        source: `${DO} digitalocean/certificate/resource_certificate.go`,
        replaceOn: ["name", "type", "domains", "privateKey", "leafCertificate", "certificateChain"],
        uniqueName: "name",
        deleteFirst: "whenNamed",
    },
    [TYPES.lb]: {
        what: "load balancer",
        source: `${DO} digitalocean/loadbalancer/resource_loadbalancer.go`,
        replaceOn: ["region", "vpcUuid", "type", "network", "networkStack", "subnetUuid", "ip"],
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.reservedIp]: {
        what: "reserved IP",
        source: `${DO} digitalocean/reservedip/resource_reserved_ip.go`,
        replaceOn: ["region"],
        guarded: true,
    },
    [TYPES.reservedIpAssignment]: {
        what: "reserved IP assignment",
        source: `${DO} digitalocean/reservedip/resource_reserved_ip_assignment.go`,
        replaceOn: ["dropletId", "ipAddress"],
    },
    [TYPES.firewall]: {
        what: "cloud firewall",
        source: `${DO} digitalocean/firewall/resource_firewall.go`,
        replaceOn: [],
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.cluster]: {
        what: "database cluster",
        source: `${DO} digitalocean/database/resource_database_cluster.go`,
        // size, nodeCount and region change in place (resize and migrate calls).
        replaceOn: ["name", "engine", "privateNetworkUuid", "projectId"],
        uniqueName: "name",
        holdsData: true,
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.db]: {
        what: "database",
        source: `${DO} digitalocean/database/resource_database_db.go`,
        replaceOn: ["clusterId", "name"],
        uniqueName: "name",
        uniqueWithin: "clusterId",
        holdsData: true,
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.dbUser]: {
        what: "database user",
        source: `${DO} digitalocean/database/resource_database_user.go`,
        replaceOn: ["clusterId", "name"],
        uniqueName: "name",
        uniqueWithin: "clusterId",
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.pool]: {
        what: "connection pool",
        source: `${DO} digitalocean/database/resource_database_connection_pool.go`,
        // No Update function at all (:19-21): every field is ForceNew (:30-68).
        replaceOn: ["clusterId", "dbName", "mode", "name", "size", "user"],
        uniqueName: "name",
        uniqueWithin: "clusterId",
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.dbFirewall]: {
        what: "database firewall",
        source: `${DO} digitalocean/database/resource_database_firewall.go`,
        replaceOn: ["clusterId"],
        guarded: true,
    },
    [TYPES.dns]: {
        what: "DNS record",
        source: `${DO} digitalocean/domain/resource_record.go`,
        replaceOn: ["domain", "type"],
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.project]: {
        what: "project",
        source: `${DO} digitalocean/project/resource_project.go`,
        replaceOn: [],
        deleteFirst: "whenNamed",
    },
    [TYPES.alert]: {
        what: "monitor alert",
        source: `${DO} digitalocean/monitoring/resource_monitor_alert.go`,
        replaceOn: [],
    },
    [TYPES.uptime]: {
        what: "uptime check",
        source: `${DO} digitalocean/uptime/resource_uptime_check.go`,
        replaceOn: [],
        deleteFirst: "whenNamed",
    },
    [TYPES.uptimeAlert]: {
        what: "uptime alert",
        source: `${DO} digitalocean/uptime/resource_uptime_alert.go`,
        replaceOn: [],
        deleteFirst: "whenNamed",
    },
    [TYPES.spacesBucket]: {
        what: "dump bucket",
        source: `${DO} digitalocean/spaces/resource_spaces_bucket.go`,
        // Only `region` is ForceNew (:48). `name` is not (:35-39), and Update (:271-306) never
        // renames: state would name a bucket that does not exist while the dumps stay in the old.
        replaceOn: ["region"],
        noopOn: ["name"],
        uniqueName: "name",
        holdsData: true,
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.tailnetKey]: {
        what: "tailnet auth key",
        source: "tailscale/terraform-provider-tailscale v0.29.2 tailscale/resource_tailnet_key.go",
        // RequiresReplace on each (:78, :85, :93, :100, :113, :129).
        replaceOn: ["reusable", "ephemeral", "tags", "preauthorized", "expiry", "description"],
    },
    [TYPES.container]: {
        what: "container",
        source: `${DOCKER} internal/provider/resource_docker_container.go`,
        // Fields without ForceNew: resourceDockerContainerUpdate (resource_docker_container_funcs.go:991-1077)
        // applies restart, max_retry_count, cpu_*, memory*, device_* through ContainerUpdate and
        // must_run; the rest are provider-side only. Every other field is ForceNew.
        replaceOn: [],
        replaceOnAllExcept: [
            "restart",
            "memory",
            "memorySwap",
            "cpuShares",
            "cpuSet",
            "maxRetryCount",
            "memoryReservation",
            "start",
            "mustRun",
            "wait",
            "waitTimeout",
            "destroyGraceSeconds",
            "rm",
            "attach",
            "logs",
            "removeVolumes",
            "deviceReadBps",
            "deviceReadIops",
            "deviceWriteBps",
            "deviceWriteIops",
            "containerReadRefreshTimeoutMilliseconds",
            ...CONTAINER_NOOP,
        ],
        // Not ForceNew, and Update never applies them (healthcheck :1045, tmpfs :482, init :1126,
        // cpuPeriod :1164, cpuQuota :1170): the container keeps the old value.
        noopOn: CONTAINER_NOOP,
        // pulumi-docker v5.1.0 provider/resources.go:112-114: DeleteBeforeReplace: true.
        uniqueName: "name",
        deleteFirst: "always",
    },
    [TYPES.dockerNetwork]: {
        what: "docker network",
        source: `${DOCKER} internal/provider/resource_docker_network.go`,
        replaceOn: [
            "attachable",
            "driver",
            "ingress",
            "internal",
            "ipamConfigs",
            "ipamDriver",
            "ipamOptions",
            "labels",
            "name",
            "options",
        ],
        uniqueName: "name",
        deleteFirst: "whenNamed",
    },
    [TYPES.volume]: {
        what: "docker volume",
        source: `${DOCKER} internal/provider/resource_docker_volume.go`,
        replaceOn: ["cluster", "driver", "driverOpts", "labels", "name"],
        uniqueName: "name",
        holdsData: true,
        guarded: true,
        deleteFirst: "whenNamed",
    },
    [TYPES.remoteImage]: {
        what: "image",
        source: `${DOCKER} internal/provider/resource_docker_image.go`,
        replaceOn: ["name", "platform", "triggers", "pullTriggers"],
    },
    [TYPES.command]: {
        what: "deploy step",
        source: "pulumi-command v1.2.1 provider/pkg/provider/common/inputs.go (triggers: replaceOnChanges)",
        replaceOn: ["triggers"],
    },
    [TYPES.environment]: {
        what: "GitHub environment",
        source: `${GH} github/resource_github_repository_environment.go`,
        // `repository` is not ForceNew, but diffRepository (github/util_diff.go:67-74) forces a
        // new resource when it names another repository (a rename of the same one updates).
        replaceOn: ["environment", "repository"],
    },
    [TYPES.envPolicy]: {
        what: "deployment branch policy",
        source: `${GH} github/resource_github_repository_environment_deployment_policy.go`,
        replaceOn: ["environment", "repository"],
    },
    [TYPES.envSecret]: {
        what: "environment secret",
        source: `${GH} github/resource_github_actions_environment_secret.go`,
        replaceOn: ["environment", "secretName", "repository"],
        // pulumi-github v6.15.0 provider/resources.go:110: DeleteBeforeReplace: true.
        deleteFirst: "always",
    },
    [TYPES.envVariable]: {
        what: "environment variable",
        source: `${GH} github/resource_github_actions_environment_variable.go`,
        replaceOn: ["environment", "variableName", "repository"],
    },
};

export type ChangeKind = "none" | "update" | "restart" | "replace";

/**
 * What the provider does when `changed` inputs of a resource of `type` change; `before` and
 * `after` (the inputs) decide the changes that replace in one direction only.
 */
export function changeKind(
    type: string,
    changed: readonly string[],
    before: Record<string, unknown> = {},
    after: Record<string, unknown> = {},
): ChangeKind {
    if (changed.length === 0) return "none";
    const s = PROVIDER_SEMANTICS[type];
    // A type the table does not know is assumed to replace: unknown is not safe.
    if (!s) return "replace";
    const forces = s.replaceOnAllExcept
        ? changed.some((p) => !s.replaceOnAllExcept!.includes(p))
        : changed.some((p) => s.replaceOn.includes(p));
    const oneWay = changed.some((p) => s.replaceWhen?.[p]?.(before[p], after[p]));
    if (forces || oneWay) return "replace";
    if (changed.some((p) => s.restartOn?.includes(p))) return "restart";
    return "update";
}

/** The inputs of a resource that decide which real resource it is: a new value, a new resource. */
export function replacementIdentity(
    type: string,
    inputs: Record<string, unknown>,
    ignored: readonly string[] = [],
): Record<string, unknown> {
    const s = PROVIDER_SEMANTICS[type];
    if (!s) return inputs;
    // An ignored input keeps its old value in the engine, so it cannot replace anything.
    const keys = Object.keys(inputs)
        .filter((k) => !ignored.includes(k))
        .filter((k) => (s.replaceOnAllExcept ? !s.replaceOnAllExcept.includes(k) : s.replaceOn.includes(k)));
    return Object.fromEntries(keys.sort().map((k) => [k, inputs[k]]));
}

/**
 * Whether a replacement deletes the old resource first: the program's own option when it set
 * one (the engine lets it override the provider), else the provider's default (`deleteFirst`).
 */
export function deletesFirst(type: string, inputs: Record<string, unknown>, option: boolean | undefined): boolean {
    if (option !== undefined) return option;
    const d = PROVIDER_SEMANTICS[type]?.deleteFirst;
    return d === "always" || (d === "whenNamed" && inputs.name !== undefined);
}

/** The changed inputs the provider records but never applies (a plan that changes nothing real). */
export function unappliedChanges(type: string, changed: readonly string[]): string[] {
    const noop = PROVIDER_SEMANTICS[type]?.noopOn ?? [];
    return changed.filter((p) => noop.includes(p));
}
