/**
 * The running program's config: the CLI's values through `parseSettings`, then the secrets,
 * read as secrets. Only the program (infra/index.ts) needs this; it loads the Pulumi SDK.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigSource, parseSettings, PlatformConfig, PROJECT } from ".";
import { q } from "./reader";

/** ConfigSource over the running program's config. */
export function pulumiSource(): ConfigSource {
    const all = pulumi.runtime.allConfig();
    // isConfigSecret is exported by the runtime but marked internal in its typings. It knows
    // which keys are secret only when the language host passed PULUMI_CONFIG_SECRET_KEYS;
    // without that (no key reported secret, while Pulumi.yaml makes tailscaleApiKey a
    // declared secret) plain-text detection is skipped rather than refusing real secrets.
    const rt = pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean };
    const informed = rt.isConfigSecret !== undefined && Object.keys(all).some((k) => rt.isConfigSecret!(k));
    return {
        get: (key) => all[q(key)],
        isSecret: (key) => (informed ? rt.isConfigSecret!(q(key)) : true),
        keys: () =>
            Object.keys(all)
                .filter((k) => k.startsWith(`${PROJECT}:`))
                .map((k) => k.slice(PROJECT.length + 1)),
    };
}

export function loadConfig(): PlatformConfig {
    const settings = parseSettings(pulumiSource(), pulumi.getStack());
    const cfg = new pulumi.Config(PROJECT);
    const appSecretsObj =
        settings.app.secretNames.length > 0 ? cfg.requireSecretObject<Record<string, string>>("appSecrets") : undefined;
    const appSecrets: Record<string, pulumi.Output<string>> = {};
    for (const name of settings.app.secretNames) {
        appSecrets[name] = pulumi.secret(appSecretsObj!.apply((o) => o[name]));
    }
    return {
        ...settings,
        secrets: {
            tailscaleApiKey: cfg.requireSecret("tailscaleApiKey"),
            spaces: settings.database.dump
                ? {
                      accessKeyId: cfg.requireSecret("spacesAccessKeyId"),
                      secretKey: cfg.requireSecret("spacesSecretKey"),
                  }
                : undefined,
            slackWebhookUrl: settings.hasSlackWebhook ? cfg.requireSecret("slackWebhookUrl") : undefined,
            ghcrToken: settings.app.hasRegistryToken ? cfg.requireSecret("ghcrToken") : undefined,
            appSecrets,
        },
    };
}
