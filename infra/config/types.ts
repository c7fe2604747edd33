/** The typed, validated config the program and the tools read: one section per parse step. */
import type * as pulumi from "@pulumi/pulumi";
import type { AppSharedSettings } from "./parse/app";
import type { ServiceSpec } from "./parse/services";
import type { DatabaseSettings } from "./parse/database";
import type { DnsSettings } from "./parse/dns";
import type { EdgeSettings } from "./parse/edge";
import type { GithubSettings } from "./parse/github";
import type { MonitoringSettings } from "./parse/monitoring";
import type { NetworkSettings } from "./parse/network";
import type { ServerSettings } from "./parse/servers";
import type { TailnetSettings } from "./parse/tailnet";
import type { StackName } from "./schema";

export interface Settings extends NetworkSettings, Omit<EdgeSettings, "urls"> {
    /** The stack's public URLs; `health` is the check's target (`check`), on the API host. */
    urls: EdgeSettings["urls"] & { health: string };
    project: string;
    stack: StackName;
    /** `platform-<stack>`: the prefix of every cloud resource name. */
    prefix: string;
    /** Tag on every taggable DigitalOcean resource of the stack. */
    stackTag: string;
    /** Tag on the app servers; the database firewall admits exactly this tag. */
    serverTag: string;
    protectData: boolean;
    servers: ServerSettings;
    tailnet: TailnetSettings;
    database: DatabaseSettings;
    dns: DnsSettings;
    monitoring: MonitoringSettings;
    /** What every service shares. */
    app: AppSharedSettings;
    /** The app's services, sorted by name (a one-service app declares one). */
    services: ServiceSpec[];
    /** The load balancer's and the uptime check's target: the health path of the service that answers the API host (healthCheckOf). */
    check: { host: string; path: string; service: string };
    github: GithubSettings;
    hasSlackWebhook: boolean;
}

export interface Secrets {
    tailscaleApiKey: pulumi.Output<string>;
    /** Spaces keys, when `dbDump` is set. */
    spaces?: { accessKeyId: pulumi.Output<string>; secretKey: pulumi.Output<string> };
    slackWebhookUrl?: pulumi.Output<string>;
    ghcrToken?: pulumi.Output<string>;
    /** One secret Output per app secret, keyed by its environment variable name. */
    appSecrets: Record<string, pulumi.Output<string>>;
}

export interface PlatformConfig extends Settings {
    secrets: Secrets;
}
