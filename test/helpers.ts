/** Shared test plumbing: memoized mock recordings and lookups by type. */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigSource } from "../infra/config";
import { Key, PROJECT } from "../infra/config/schema";
import { configSource, offlineSecrets, readStackConfig, recordStack, RecordedResource, RecordedStack, RecordOptions } from "../tools/lib/mockrun";

const cache = new Map<string, Promise<RecordedStack>>();

/** Records a stack once per distinct options; recordings are read-only. */
export function record(stack: string, opts: RecordOptions = {}): Promise<RecordedStack> {
    const key = JSON.stringify([stack, opts]);
    if (!cache.has(key)) {
        // Recordings share the runtime, so they run one after another.
        const previous = [...cache.values()].pop() ?? Promise.resolve();
        cache.set(key, previous.catch(() => undefined).then(() => recordStack(stack, opts)));
    }
    return cache.get(key)!;
}

export const T = {
    droplet: "digitalocean:index/droplet:Droplet",
    vpc: "digitalocean:index/vpc:Vpc",
    project: "digitalocean:index/project:Project",
    firewall: "digitalocean:index/firewall:Firewall",
    cluster: "digitalocean:index/databaseCluster:DatabaseCluster",
    db: "digitalocean:index/databaseDb:DatabaseDb",
    dbUser: "digitalocean:index/databaseUser:DatabaseUser",
    pool: "digitalocean:index/databaseConnectionPool:DatabaseConnectionPool",
    dbFirewall: "digitalocean:index/databaseFirewall:DatabaseFirewall",
    lb: "digitalocean:index/loadBalancer:LoadBalancer",
    cert: "digitalocean:index/certificate:Certificate",
    reservedIp: "digitalocean:index/reservedIp:ReservedIp",
    reservedIpAssignment: "digitalocean:index/reservedIpAssignment:ReservedIpAssignment",
    dns: "digitalocean:index/dnsRecord:DnsRecord",
    alert: "digitalocean:index/monitorAlert:MonitorAlert",
    uptime: "digitalocean:index/uptimeCheck:UptimeCheck",
    uptimeAlert: "digitalocean:index/uptimeAlert:UptimeAlert",
    tailnetKey: "tailscale:index/tailnetKey:TailnetKey",
    container: "docker:index/container:Container",
    remoteImage: "docker:index/remoteImage:RemoteImage",
    dockerNetwork: "docker:index/network:Network",
    command: "command:local:Command",
    environment: "github:index/repositoryEnvironment:RepositoryEnvironment",
    envPolicy: "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
    envSecret: "github:index/actionsEnvironmentSecret:ActionsEnvironmentSecret",
    envVariable: "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable",
} as const;

export function ofType(rec: RecordedStack, type: string): RecordedResource[] {
    return rec.resources.filter((r) => r.type === type);
}

export function named(rec: RecordedStack, type: string, name: string): RecordedResource {
    const r = rec.resources.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name}; have: ${ofType(rec, type).map((x) => x.name).join(", ")}`);
    return r;
}

/** A ConfigSource over a committed stack file, with offline secrets and overrides. */
export function source(stack: string, overrides: Partial<Record<Key, string>> = {}, opts: { plainKeys?: Key[]; unset?: Key[] } = {}): ConfigSource {
    const cfg = readStackConfig(stack);
    const placeholders = offlineSecrets(cfg.values);
    const values: Record<string, string> = { ...cfg.values, ...placeholders };
    const secret = new Set([...cfg.secretKeys, ...Object.keys(placeholders)]);
    for (const [k, v] of Object.entries(overrides)) values[`${PROJECT}:${k}`] = v as string;
    for (const k of opts.unset ?? []) delete values[`${PROJECT}:${k}`];
    for (const k of opts.plainKeys ?? []) secret.delete(`${PROJECT}:${k}`);
    return configSource(values, secret);
}

export function tmpdir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Runs shellcheck on a script's text; returns its findings ("" when clean). */
export function shellcheck(text: string, exclude: string[] = []): string {
    const dir = tmpdir("sc-");
    const file = path.join(dir, "script.sh");
    fs.writeFileSync(file, text);
    try {
        execFileSync("shellcheck", ["--severity=style", ...exclude.map((e) => `--exclude=${e}`), file], { encoding: "utf8" });
        return "";
    } catch (e) {
        return String((e as { stdout?: string }).stdout ?? e);
    }
}
