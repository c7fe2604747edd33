/**
 * The platform program: reads the stack's validated config, wires one component per
 * concern, and exports the stack outputs. No resource is registered before the config has
 * been validated in full.
 */
import * as github from "@pulumi/github";
import * as pulumi from "@pulumi/pulumi";
import * as tailscale from "@pulumi/tailscale";
import { App, plainEnv } from "./app";
import { loadConfig } from "./config/load";
import { DEPLOY_BRANCH } from "./config/schema";
import { ServiceSpec } from "./config/parse/services";
import { Database } from "./database";
import { DumpBucket } from "./database/dump";
import { parseRestorePoint, RestoredDatabase } from "./database/restore";
import { Dns } from "./dns";
import { Edge } from "./edge";
import { Firewall } from "./firewall";
import { GithubEnvironment } from "./github";
import { Monitoring } from "./monitoring";
import { Network } from "./network";
import { Project } from "./project";
import { DEPLOY_USER, inServiceProbe, rebuildFingerprint, serverKeys, Servers, tailnetHostname } from "./servers";
import { TailnetKeys } from "./tailnet";

const cfg = loadConfig();
const name = cfg.stack;

const tailscaleProvider = new tailscale.Provider("tailscale", {
    apiKey: cfg.secrets.tailscaleApiKey,
    tailnet: cfg.tailnet.tailnet,
});
// The GitHub token stays the provider's own config (`github:token`, or GITHUB_TOKEN).
const githubProvider = new github.Provider("github", {
    owner: cfg.github.owner,
    token: new pulumi.Config("github").getSecret("token"),
});

const network = new Network(name, { prefix: cfg.prefix, region: cfg.region, ipRange: cfg.network.vpcIpRange });

const keys = serverKeys(cfg.servers.count);
const fingerprints = Object.fromEntries(
    keys.map((key) => [
        key,
        rebuildFingerprint({
            hostname: tailnetHostname(cfg.stack, key),
            tags: cfg.tailnet.tags,
            sshMode: cfg.servers.sshMode,
            image: cfg.servers.image,
            region: cfg.region,
            sshKeys: cfg.servers.sshKeys,
            vpcIpRange: cfg.network.vpcIpRange,
        }),
    ]),
);
const tailnet = new TailnetKeys(name, {
    servers: keys,
    tags: cfg.tailnet.tags,
    expirySeconds: cfg.tailnet.keyExpirySeconds,
    prefix: cfg.prefix,
    fingerprints,
    provider: tailscaleProvider,
});

const servers = new Servers(name, {
    prefix: cfg.prefix,
    stack: cfg.stack,
    keys,
    size: cfg.servers.size,
    image: cfg.servers.image,
    region: cfg.region,
    vpcId: network.vpcId,
    backups: cfg.servers.backups,
    ipv6: cfg.servers.ipv6,
    sshKeys: cfg.servers.sshKeys,
    tags: [cfg.stackTag, cfg.serverTag],
    sshMode: cfg.servers.sshMode,
    tailscaleTags: cfg.tailnet.tags,
    authKeys: tailnet.keys,
    deployUser: DEPLOY_USER,
    inService: {
        probeArgs: inServiceProbe({ edge: cfg.edge, healthPath: cfg.check.path, host: cfg.dns.apiFqdn }),
        timeoutSeconds: cfg.app.bootTimeoutSeconds + cfg.app.deployTimeoutSeconds,
    },
});
// Resolves once every droplet exists, which is what creates their tags.
const serverTag = servers.tags.apply(() => cfg.serverTag);
const stackTag = servers.tags.apply(() => cfg.stackTag);

const edge = new Edge(name, {
    prefix: cfg.prefix,
    region: cfg.region,
    vpcId: network.vpcId,
    kind: cfg.edge,
    dropletIds: servers.dropletIds,
    serverTag,
    hostnames: [cfg.dns.frontendFqdn, cfg.dns.apiFqdn],
    healthPath: cfg.check.path,
});

new Firewall(name, {
    prefix: cfg.prefix,
    serverTag,
    vpcIpRange: cfg.network.vpcIpRange,
    loadBalancerUid: edge.loadBalancer?.id,
});

const restore = cfg.database.restore;
// The source cluster stays declared (and protected) through a restore, until the team sets
// databaseRestore.retireSource on purpose.
const sourceDatabase = restore?.retireSource
    ? undefined
    : new Database(name, {
          clusterName: cfg.database.clusterName,
          region: cfg.region,
          vpcId: network.vpcId,
          version: cfg.database.version,
          size: cfg.database.size,
          nodeCount: cfg.database.nodeCount,
          dbName: cfg.database.name,
          dbUser: cfg.database.user,
          poolSize: cfg.database.poolSize,
          poolMode: cfg.database.poolMode,
          maintenance: { day: cfg.database.maintenanceDay, hour: cfg.database.maintenanceHour },
          tags: [stackTag],
          serverTag,
          protect: cfg.protectData,
      });
const restoredDatabase = restore
    ? new RestoredDatabase(name, {
          clusterName: restore.clusterName,
          sourceClusterName: restore.sourceCluster,
          restoreTime: restore.time,
          region: cfg.region,
          vpcId: network.vpcId,
          version: cfg.database.version,
          size: cfg.database.size,
          nodeCount: cfg.database.nodeCount,
          dbName: cfg.database.name,
          dbUser: cfg.database.user,
          poolSize: cfg.database.poolSize,
          poolMode: cfg.database.poolMode,
          maintenance: { day: cfg.database.maintenanceDay, hour: cfg.database.maintenanceHour },
          tags: [cfg.stackTag],
          serverTag: cfg.serverTag,
          protect: cfg.protectData,
      })
    : undefined;
/** The cluster the app uses: the restored one once a restore is configured. */
const database = (restoredDatabase ?? sourceDatabase)!;

new Dns(name, {
    domain: cfg.dns.domain,
    ip: edge.ip,
    ttl: cfg.dns.ttl,
    records: [
        { role: "frontend", host: cfg.dns.frontendHost },
        { role: "api", host: cfg.dns.apiHost },
    ],
});

new Monitoring(name, {
    prefix: cfg.prefix,
    dropletIds: servers.dropletIds,
    healthUrl: cfg.urls.health,
    emails: cfg.monitoring.alertEmails,
    slack: cfg.secrets.slackWebhookUrl
        ? { channel: cfg.monitoring.slackChannel, url: cfg.secrets.slackWebhookUrl }
        : undefined,
    thresholds: {
        cpu: cfg.monitoring.cpuPercent,
        memory: cfg.monitoring.memoryPercent,
        disk: cfg.monitoring.diskPercent,
    },
    tags: [stackTag],
});

const clusterUrns = [sourceDatabase, restoredDatabase].flatMap((d) => (d ? [d.cluster.clusterUrn] : []));
new Project(name, {
    prefix: cfg.prefix,
    stack: cfg.stack,
    resourceUrns: [...servers.dropletUrns, ...clusterUrns, edge.resourceUrn],
});

/** A service's secret environment: DATABASE_URL when it uses the database, and the app secrets it lists. */
const secretEnvOf = (svc: ServiceSpec) =>
    pulumi.secret(
        pulumi
            .all([database.poolUrl, ...svc.secretNames.map((n) => cfg.secrets.appSecrets[n])])
            .apply(([url, ...values]) => [
                ...(svc.database ? [`DATABASE_URL=${url}`] : []),
                ...svc.secretNames.map((n, i) => `${n}=${values[i]}`),
            ]),
    );

// Optional logical dumps before each migration, into a bucket the program owns (dbDump).
const dump =
    cfg.database.dump && cfg.secrets.spaces
        ? new DumpBucket(name, {
              bucket: cfg.database.dump.bucket,
              region: cfg.database.dump.region,
              retentionDays: cfg.database.dump.retentionDays,
              accessKeyId: cfg.secrets.spaces.accessKeyId,
              secretKey: cfg.secrets.spaces.secretKey,
              protect: cfg.protectData,
          })
        : undefined;

const app = new App(name, {
    servers: servers.servers.map((s) => ({
        key: s.key,
        tailnetHostname: s.tailnetHostname,
        dropletId: s.droplet.id.apply(Number),
    })),
    deployUser: DEPLOY_USER,
    services: cfg.services.map((svc) => ({
        name: svc.name,
        repository: svc.repository,
        tag: svc.tag,
        digest: svc.digest,
        port: svc.port,
        memoryMb: svc.memoryMb,
        health: svc.health,
        healthcheckCommand: svc.healthcheckCommand,
        env: plainEnv({
            environment: cfg.stack,
            apiUrl: cfg.urls.api,
            frontendUrl: cfg.urls.frontend,
            publicUrl: cfg.urls.public,
            logLevel: cfg.app.logLevel,
            port: svc.port,
            extra: svc.env,
        }),
        secretEnv: secretEnvOf(svc),
        migrationCommand: svc.migrationCommand,
        processes: svc.processes,
        smokeRequests: svc.smokeRequests,
    })),
    routes: cfg.services.flatMap((svc) => svc.routes.map((r) => ({ host: r.host, path: r.path, service: svc.name }))),
    check: cfg.edge === "load-balancer" ? { path: cfg.check.path, service: cfg.check.service } : undefined,
    proxyImage: cfg.app.proxyImage,
    registry: cfg.secrets.ghcrToken
        ? { address: cfg.app.registryHost, username: cfg.app.registryUser, password: cfg.secrets.ghcrToken }
        : undefined,
    proxyMode:
        cfg.edge === "load-balancer"
            ? { kind: "behind-lb", trustedProxies: [cfg.network.vpcIpRange] }
            : { kind: "tls", acmeEmail: cfg.acmeEmail || undefined },
    migrationDatabaseUrl: database.directUrl,
    dbClientImage: cfg.app.dbClientImage,
    dump:
        dump && cfg.secrets.spaces
            ? {
                  url: pulumi.interpolate`${dump.endpoint}/${dump.bucket.name}`,
                  region: cfg.database.dump!.region,
                  prefix: cfg.stack,
                  accessKeyId: cfg.secrets.spaces.accessKeyId,
                  secretKey: cfg.secrets.spaces.secretKey,
              }
            : undefined,
    healthcheck: { intervalSeconds: cfg.app.healthcheckIntervalSeconds, retries: cfg.app.healthcheckRetries },
    deployTimeoutSeconds: cfg.app.deployTimeoutSeconds,
    bootTimeoutSeconds: cfg.app.bootTimeoutSeconds,
});

new GithubEnvironment(name, {
    repository: cfg.github.repository,
    environment: cfg.stack,
    approvalMode: cfg.github.approvalMode,
    reviewers: cfg.github.reviewers,
    reviewerTeams: cfg.github.reviewerTeams,
    waitTimerMinutes: cfg.github.waitTimerMinutes,
    deployBranch: DEPLOY_BRANCH,
    secrets: { DATABASE_URL: database.poolUrl, ...cfg.secrets.appSecrets },
    // Plain values only: everything here is visible to anyone who can read the repository.
    variables: {
        ENVIRONMENT: cfg.stack,
        API_URL: cfg.urls.api,
        FRONTEND_URL: cfg.urls.frontend,
        LOG_LEVEL: cfg.app.logLevel,
        PUBLIC_URL: cfg.urls.public,
    },
    provider: githubProvider,
});

/** Public URL of the frontend. */
export const publicUrl = cfg.urls.public;
export const apiUrl = cfg.urls.api;
export const healthUrl = cfg.urls.health;
export const edgeKind = cfg.edge;
export const edgeIp = edge.ip;
/** Tailnet hostnames of the servers, in rollout order. */
export const serverHostnames = servers.servers.map((s) => s.tailnetHostname);
export const serverPublicIps = servers.servers.map((s) => s.droplet.ipv4Address);
export const databasePrivateHost = database.privateHost;
export const databasePort = database.port;
/** Secret. */
export const databaseUrl = database.poolUrl;
/** The release record the release tools read: the set of what each service runs, by tag and digest. */
export const release = {
    services: Object.fromEntries(
        cfg.services.map((svc) => [
            svc.name,
            {
                repository: svc.repository,
                tag: svc.tag,
                digest: app.digests[svc.name],
                image: app.images[svc.name],
            },
        ]),
    ),
    /**
     * The database's clock (UTC) just before this release's migration ran: the point to
     * restore to for the data as it was before this release (`npm run restore --to-release`).
     * Absent when the stack runs no migrations.
     */
    restorePoint: app.migrationOutput.apply((out) => (out === undefined ? undefined : parseRestorePoint(out))),
};
