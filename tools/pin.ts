/**
 * `npm run pin -- --stack <name> [--registry-url <url>] [--json]`
 *
 * Resolves the stack's configured image tag to its digest in the registry and writes it to
 * `platform:imageDigest`, so the update about to run records the exact digest in the stack's
 * history (what rollback and releases read). A digest already pinned is kept. The deploy
 * workflow runs this before every `up`.
 */
import { pinnedTagOf } from "../infra/config";
import { EXIT, explain, openStack, requireKnownStack, ToolError } from "./lib/automation";
import { Io, parseFlags, Reporter, runCli, workDirOf } from "./lib/cli";
import { verifyInRegistry } from "./lib/deploy";

const HELP = `Usage: npm run pin -- --stack <name> [--registry-url <url>] [--json] [--work-dir <dir>]

Pins the stack's imageTag to its current registry digest (platform:imageDigest), unless a
digest is already pinned.`;

export async function main(argv: string[], io: Io): Promise<number> {
    const r = new Reporter(io, "pin");
    try {
        const args = parseFlags(argv, ["--stack", "--work-dir", "--registry-url"], ["--json"]);
        if (args.help) { io.out(`${HELP}\n`); return EXIT.ok; }
        r.json = args.flags.has("json");
        const stackName = r.stack = requireKnownStack(args.values.stack, workDirOf(args.values));
        const stack = await openStack(stackName, workDirOf(args.values));
        const config = await stack.getAllConfig();
        const tag = config["platform:imageTag"]?.value;
        if (!tag) throw new ToolError(`${stackName} has no platform:imageTag`);
        const pinned = config["platform:imageDigest"]?.value ?? "";
        // The pair last pinned (tag@digest): the same digest under another tag is a hand edit.
        const pinnedFor = pinnedTagOf(config["platform:imagePin"]?.value ?? "", pinned);
        if (pinnedFor !== undefined && pinnedFor !== tag) {
            throw new ToolError(`${stackName}: imageTag ${tag} is not the tag imageDigest was pinned for (${pinnedFor}); re-pin: pulumi config rm imageDigest --stack ${stackName} && pulumi config rm imagePin --stack ${stackName} && npm run pin -- --stack ${stackName}`);
        }
        const digest = await verifyInRegistry(config, { tag, digest: pinned || undefined }, args.values["registry-url"]);
        if (pinned) {
            // Tag and digest were set together by a writer that keeps no record (the deploy
            // workflow's release selection): record the pair now, so a later hand edit is caught.
            if (pinnedFor === undefined) await stack.setConfig("platform:imagePin", { value: `${tag}@${digest}`, secret: false });
            r.log(`${stackName}: ${tag} stays pinned to ${digest}`);
        } else {
            await stack.setConfig("platform:imageDigest", { value: digest, secret: false });
            // The pair pinned, so a later hand edit of imageTag is caught, not deployed as the old image.
            await stack.setConfig("platform:imagePin", { value: `${tag}@${digest}`, secret: false });
            r.log(`${stackName}: pinned ${tag} to ${digest}`);
        }
        return r.done({ result: "succeeded", tag, digest, changed: !pinned }, EXIT.ok);
    } catch (e) {
        return r.error(e instanceof ToolError ? e.message : explain(e, r.stack));
    }
}

if (require.main === module) runCli(main);
