/**
 * `npm run pin -- --stack <name> [--service <name>] [--registry-url <url>] [--json]`
 *
 * Resolves each service's configured image tag to its digest in the registry and writes it
 * to the service's digest key (`services.<name>.digest`), so the update about to run
 * records the exact digests in the stack's history (what rollback and releases read). A digest already pinned is kept. The deploy
 * workflow runs this before every `up`.
 */
import { pinnedTagOf } from "../infra/config";
import { Automation, EXIT, localAutomation, requireKnownStack, ToolError } from "./lib/automation";
import { Io, runCli, runTool, workDirOf } from "./lib/cli";
import { imageKeys, serviceOf, stackImages, verifyInRegistry } from "./lib/deploy";

const HELP = `Usage: npm run pin -- --stack <name> [--service <name>] [--registry-url <url>] [--json] [--work-dir <dir>]

Pins each service's image tag to its current registry digest (services.<name>.digest),
unless a digest is already pinned.
  --service <name>   pin this service only

Exit codes: 0 pinned, 2 could not (see the message).`;

interface Pinned {
    tag: string;
    digest: string;
    changed: boolean;
}

export function main(argv: string[], io: Io, automation: Automation = localAutomation): Promise<number> {
    return runTool(
        {
            name: "pin",
            help: HELP,
            values: ["--stack", "--service", "--work-dir", "--registry-url"],
            flags: ["--json"],
            run: async (args, r) => {
                const workDir = workDirOf(args.values);
                const stackName = (r.stack = requireKnownStack(args.values.stack, workDir));
                const stack = await automation.selectStack(stackName, workDir);
                const config = await stack.getAllConfig();
                const images = stackImages(config);
                const names = args.values.service ? [args.values.service] : Object.keys(images.services);

                // Every image is resolved before anything is written: a missing one pins nothing.
                const plan: {
                    name: string;
                    tag: string;
                    digest: string;
                    pinned: boolean;
                    recorded: boolean;
                    keys: ReturnType<typeof imageKeys>;
                }[] = [];
                for (const name of names) {
                    const s = serviceOf(images, name, stackName);
                    const keys = imageKeys(name);
                    if (!s.tag) throw new ToolError(`${stackName} has no ${keys.tag}`);
                    const pinned = s.digest ?? "";
                    // The pair last pinned (tag@digest): the same digest under another tag is a hand edit.
                    const pinnedFor = pinnedTagOf(s.pin ?? "", pinned);
                    if (pinnedFor !== undefined && pinnedFor !== s.tag) {
                        const [tagKey, digestKey, pinKey] = [keys.tag, keys.digest, keys.pin].map((k) =>
                            k.replace(/^platform:/, ""),
                        );
                        const rm = (k: string) => `pulumi config rm --path ${k} --stack ${stackName}`;
                        throw new ToolError(
                            `${stackName}: ${tagKey} ${s.tag} is not the tag ${digestKey} was pinned for (${pinnedFor}); re-pin: ${rm(digestKey)} && ${rm(pinKey)} && npm run pin -- --stack ${stackName} --service ${name}`,
                        );
                    }
                    const digest = await verifyInRegistry(
                        config,
                        s.repository,
                        { tag: s.tag, digest: pinned || undefined },
                        args.values["registry-url"],
                    );
                    plan.push({ name, tag: s.tag, digest, pinned: !!pinned, recorded: pinnedFor !== undefined, keys });
                }

                const services: Record<string, Pinned> = {};
                for (const p of plan) {
                    const label = `${p.name} `;
                    if (p.pinned) {
                        // Tag and digest were set together by a writer that keeps no record (the deploy
                        // workflow's release selection): record the pair now, so a later hand edit is caught.
                        if (!p.recorded)
                            await stack.setConfig(p.keys.pin, { value: `${p.tag}@${p.digest}`, secret: false }, true);
                        r.log(`${stackName}: ${label}${p.tag} stays pinned to ${p.digest}`);
                    } else {
                        await stack.setConfig(p.keys.digest, { value: p.digest, secret: false }, true);
                        // The pair pinned, so a later hand edit of the tag is caught, not deployed as the old image.
                        await stack.setConfig(p.keys.pin, { value: `${p.tag}@${p.digest}`, secret: false }, true);
                        r.log(`${stackName}: pinned ${label}${p.tag} to ${p.digest}`);
                    }
                    services[p.name] = { tag: p.tag, digest: p.digest, changed: !p.pinned };
                }
                return r.done({ result: "succeeded", services, changed: plan.some((p) => !p.pinned) }, EXIT.ok);
            },
        },
        argv,
        io,
    );
}

if (require.main === module) runCli(main);
